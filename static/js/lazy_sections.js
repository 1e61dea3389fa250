// Sections that take seconds to compute (hot spot evaluations, the corridor's patrol ranking) are served as
// HTML fragments of their own: each element with data-fragment-url is filled once the page has shown, so the
// page never waits for them. The fragment is rendered (and escaped) by the server's templates.
(function () {
  "use strict";
  var boxes = document.querySelectorAll("[data-fragment-url]");
  Array.prototype.forEach.call(boxes, function (box) {
    fetch(box.getAttribute("data-fragment-url"), {credentials: "same-origin", headers: {"Accept": "text/html"}})
      .then(function (response) {
        return response.text().then(function (text) { return {ok: response.ok, text: text}; });
      })
      .then(function (answer) {
        if (answer.ok) {
          box.innerHTML = answer.text;
          box.removeAttribute("aria-busy");
          if (window.location.hash && box.querySelector(window.location.hash)) {
            box.querySelector(window.location.hash).scrollIntoView();
          }
        } else {
          box.textContent = box.getAttribute("data-fragment-error") || "";
        }
      })
      .catch(function () { box.textContent = box.getAttribute("data-fragment-error") || ""; });
  });
})();
