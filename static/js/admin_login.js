/* Admin sign-in: the form is sent once. A second click while the first sign-in was still
 * checking its password was counted as one more try, and one failure short of the limit
 * showed "Sign-in paused" for the right password. Without JavaScript nothing changes. */
(function () {
  "use strict";

  var form = document.getElementById("login-form");
  if (!form) {
    return;
  }
  var sent = false;
  form.addEventListener("submit", function (event) {
    if (sent) {
      event.preventDefault();
      return;
    }
    sent = true;
    form.querySelector('[type="submit"]').disabled = true;
  });
  /* Back to this page from the browser's history: the form may be sent again. */
  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) {
      return;
    }
    sent = false;
    form.querySelector('[type="submit"]').disabled = false;
  });
})();
