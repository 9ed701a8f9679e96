/* The 核查结果 sheet: the print button (no inline script). */
(function () {
  "use strict";
  function bind() {
    var button = document.getElementById("print-button");
    if (button) {
      button.addEventListener("click", function () { window.print(); });
    }
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", bind);
  } else {
    bind();
  }
})();
