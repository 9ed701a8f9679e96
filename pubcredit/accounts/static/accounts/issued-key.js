/* The page showing a newly issued API key: focusing the key selects it for copying (a script
   file, not an onfocus attribute: the Content-Security-Policy allows no inline script). */
(function () {
  "use strict";
  var input = document.getElementById("issued-key");
  if (input) {
    input.addEventListener("focus", function () { input.select(); });
  }
})();
