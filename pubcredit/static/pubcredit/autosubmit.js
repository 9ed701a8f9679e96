/* <select data-autosubmit>: choosing an option submits its form (a script file, not an
   onchange attribute: the Content-Security-Policy allows no inline script). Forms keep a
   <noscript> button for visitors without JavaScript. */
(function () {
  "use strict";
  document.querySelectorAll("[data-autosubmit]").forEach(function (field) {
    field.addEventListener("change", function () { field.form.submit(); });
  });
})();
