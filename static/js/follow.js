/* Follow pages: a Copy button beside each feed address, and the whole address selected
 * when its box is clicked or reached with Tab. Without JavaScript the buttons stay hidden
 * and the address is in a read-only box, to select and copy by hand. */
(function () {
  "use strict";

  var status = document.getElementById("copy-status");

  function copied(field) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(field.value);
    }
    /* Plain HTTP has no clipboard API: the older command copies the selection. */
    field.select();
    return document.execCommand("copy") ? Promise.resolve() : Promise.reject();
  }

  document.querySelectorAll(".feed-address__url").forEach(function (field) {
    field.addEventListener("focus", function () { field.select(); });
    field.addEventListener("click", function () { field.select(); });
  });

  document.querySelectorAll("[data-copy]").forEach(function (button) {
    var field = document.getElementById(button.dataset.copy);
    var label = field.labels[0].textContent.trim();
    button.hidden = false;
    button.addEventListener("click", function () {
      copied(field).then(
        function () { status.textContent = "Copied: the " + label + " is ready to paste."; },
        function () {
          field.select();
          status.textContent = "Could not copy: the address is selected, copy it with your keyboard or menu.";
        }
      );
    });
  });
})();
