// A filter form's date range refines its period menu: choosing a period in the menu clears the range
// (the server lets a range win over the menu), and a range half filled is not sent.
(function () {
  "use strict";
  document.querySelectorAll("form").forEach(function (form) {
    var menu = form.querySelector("select[name='period']");
    var first = form.querySelector("input[name='from']"), last = form.querySelector("input[name='to']");
    if (!menu || !first || !last) { return; }
    menu.addEventListener("change", function () { first.value = ""; last.value = ""; });
    form.addEventListener("submit", function () {
      if (!first.value || !last.value) { first.disabled = true; last.disabled = true; }
    });
  });
})();
