/* Comments: progressive enhancement of the "Leave a Reply" form.
 * Everything here also works without JavaScript: a comment's Reply button (and Cancel
 * reply) posts the form back with the typed text kept, answering that comment (or none);
 * so does "Show a new question", with another question; and the error summary is the
 * target of the form's #comment-errors fragment. */
(function () {
  "use strict";

  var respond = document.getElementById("respond");
  if (!respond) {
    return;
  }
  var form = respond.querySelector("form.comment-form");
  var title = document.getElementById("respond-title");
  var cancel = document.getElementById("cancel-reply");
  var parentInput = form && form.querySelector("input[name=parent]");
  /* "The comment you chose to reply to is no longer shown": not once the reader picks again. */
  var targetGone = document.getElementById("reply-target-gone");
  var home = document.createComment("respond-home");
  respond.parentNode.insertBefore(home, respond);

  /* A reply shown again (errors, new question): put the form back under its comment. */
  if (parentInput && parentInput.value) {
    var target = document.getElementById("comment-" + parentInput.value);
    if (target) {
      target.querySelector(".comment__body").after(respond);
    }
  }

  /* Errors: move focus to the summary so screen readers announce it at once. */
  var summary = document.getElementById("comment-errors");
  if (summary) {
    summary.focus();
  }

  function setTitle(name) {
    title.textContent = "";
    if (name) {
      title.append("Reply to ");
      var bdi = document.createElement("bdi");
      bdi.textContent = name;
      title.append(bdi);
    } else {
      title.textContent = "Leave a Reply";
    }
  }

  /* The browser gives a page it shows again (Back, a reload) the text typed in it, but not
     a hidden input set here: the comment answered is kept in the page's history entry. */
  function rememberReplyTarget(commentId) {
    var state = Object.assign({}, history.state, { replyTo: commentId });
    history.replaceState(state, "");
  }

  function replyTo(commentId, options) {
    var comment = document.getElementById("comment-" + commentId);
    if (!comment || !parentInput) {
      return false;
    }
    var body = comment.querySelector(".comment__body");
    body.after(respond);
    if (targetGone) {
      targetGone.hidden = true;
    }
    parentInput.value = commentId;
    rememberReplyTarget(commentId);
    var author = document.getElementById("comment-" + commentId + "-author");
    setTitle(author ? author.textContent : "");
    cancel.parentNode.hidden = false;
    var text = form.querySelector("textarea[name=body]");
    if (text && options.focus) {
      text.focus();
    }
    return true;
  }

  function cancelReply(options) {
    home.after(respond);
    if (parentInput) {
      parentInput.value = "";
    }
    rememberReplyTarget(null);
    setTitle("");
    cancel.parentNode.hidden = true;
    if (options.focus) {
      title.setAttribute("tabindex", "-1");
      title.focus();
    }
  }

  document.addEventListener("click", function (event) {
    /* With Ctrl, Cmd, Shift or Alt the reader asks the browser for a new tab or a window:
       leave the Reply button to it (it sends the text typed so far there). */
    if (event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) {
      return;
    }
    var button = event.target.closest("button.comment__reply");
    if (button && replyTo(button.value, { focus: true })) {
      event.preventDefault();
    }
  });

  if (cancel) {
    cancel.addEventListener("click", function (event) {
      event.preventDefault();
      cancelReply({ focus: true });
    });
  }

  /* Back on (or reloading) a page where the reader chose a comment to answer, or chose
     none after all: the browser puts their text back, this puts the form back with it. */
  if (history.state && "replyTo" in history.state) {
    if (!(history.state.replyTo && replyTo(history.state.replyTo, { focus: false }))) {
      cancelReply({ focus: false });
    }
  }

  var refresh = form && form.querySelector("button[name=new_question]");
  var answerInput = form && form.querySelector("input[name=captcha_1]");
  var captcha = form && form.querySelector(".captcha");

  /* While a question may be replaced, say so to assistive technologies (and to tests). */
  function replacingQuestion(request) {
    if (!captcha) {
      return request;
    }
    captcha.setAttribute("aria-busy", "true");
    function done() {
      captcha.removeAttribute("aria-busy");
    }
    request.then(done, done);
    return request;
  }

  /* Put a question the server gave this reader in the form: its key, picture and audio. */
  function useQuestion(question, options) {
    var key = form.querySelector("input[name=captcha_0]");
    var image = form.querySelector("img.captcha__image");
    var audio = form.querySelector("a.captcha__audio");
    if (audio && question.audio_url) {
      audio.href = question.audio_url;
    }
    key.value = question.key;
    image.src = question.image_url;
    answerInput.value = "";
    if (options.focus) {
      answerInput.focus();
    }
  }

  /* The name, email and website a reader asked to be remembered: in a cookie of their
     browser's for this script alone (comments/views.py, set_author_cookie), never in a page
     or an answer of the server's. A new form gets them in the boxes not filled in yet (the
     browser may have put back what was typed before a reload), and "remember me" ticked
     again if any was; a form sent back shows what the reader sent, and stays so. */
  function rememberedAuthor() {
    var found = document.cookie.match(/(?:^|;\s*)comment_author=([^;]*)/);
    if (!found) {
      return null;
    }
    try {
      var author = JSON.parse(decodeURIComponent(found[1]));
      return author && typeof author === "object" ? author : null;
    } catch (error) {
      return null; /* not ours to read */
    }
  }

  function fillRemembered() {
    var author = form && form.hasAttribute("data-fill-remembered") && rememberedAuthor();
    if (!author) {
      return false;
    }
    var filled = false;
    ["name", "email", "url"].forEach(function (name) {
      var input = form.querySelector("input[name=" + name + "]");
      if (input && !input.value && typeof author[name] === "string" && author[name]) {
        input.value = author[name];
        filled = true;
      }
    });
    var remember = form.querySelector("input[name=remember]");
    if (filled && remember) {
      remember.checked = true;
    }
    return true;
  }

  var rememberedOnLoad = fillRemembered();

  /* When the reader starts writing, ask for what the page cannot carry for every reader:
     a CSRF token (a shared cached page has none) and a question of their own (the page's
     may have been given to other readers too, and the first to answer it uses it up). The
     form is held back until the token has come. Without it (no JavaScript, or the request
     failed) the server answers the send with a form to send again. A form the server sent
     back (data-own-question) was rendered for this reader alone and carries both. */
  var tokenInput = form && form.querySelector("input[name=csrfmiddlewaretoken]");
  var ownQuestion = form && form.hasAttribute("data-own-question");
  var tokenRequest = null;

  function startWriting() {
    if (ownQuestion) {
      return Promise.resolve();
    }
    if (!tokenRequest) {
      var request = fetch(form.dataset.tokenUrl, { credentials: "same-origin" })
        .then(function (response) {
          if (!response.ok) {
            throw new Error("token request failed");
          }
          return response.json();
        })
        .then(function (data) {
          if (!tokenInput.value) {
            tokenInput.value = data.token;
          }
          /* A reader remembered before the script could read the cookie has it now (the
             answer's headers replaced the signed one). */
          if (!rememberedOnLoad) {
            rememberedOnLoad = fillRemembered();
          }
          if (data.question && !questionInUse && answerInput && !answerInput.value) {
            useQuestion(data.question, { focus: false });
          }
        })
        .catch(function () {
          tokenRequest = null;
        });
      tokenRequest = replacingQuestion(request);
    }
    return tokenRequest;
  }

  /* A reader who has turned to the question (its answer box, its audio, its button) keeps
     it: the question of their own comes in its place only while they write the rest.
     Turned to by a click as well as by the focus: Safari, and a screen reader's browse
     mode, follow the audio link without focusing it. */
  var questionInUse = false;
  function turnedToQuestion(event) {
    if (event.target.closest(".captcha, .captcha__new")) {
      questionInUse = true;
    }
  }
  if (form) {
    form.addEventListener("click", turnedToQuestion);
    form.addEventListener("focusin", function (event) {
      turnedToQuestion(event);
      startWriting();
    });
  }

  /* A text far too long to send: the site does not read a form over its limit (the box's
     data-max-form-bytes), and answers with a short page away from the text. The reader is
     told here instead, with the text still in the box. A text merely over the comment's
     limit goes, and comes back with the site's own word on it. Registered before the
     token's hold, so that nothing waits for a send that will not happen. */
  var bodyBox = form && form.querySelector("textarea[data-max-form-bytes]");
  var tooLong = null;
  /* The box is described by its message, as by the site's own (aria-describedby): a screen
     reader says it on landing in the box, where the move may cut the alert short. */
  var describedBefore = bodyBox && bodyBox.getAttribute("aria-describedby");
  var bodyField = bodyBox && bodyBox.closest(".field");
  var erredBefore = bodyField && bodyField.classList.contains("field--error");
  if (bodyBox) {
    form.addEventListener("submit", function (event) {
      var limit = Number(bodyBox.dataset.maxFormBytes);
      /* As the browser sends it: each line break as CR LF ("%0D%0A"), where the box's
         value and FormData hold a line feed alone. */
      var entries = Array.from(new FormData(form, event.submitter), function (entry) {
        return [entry[0], String(entry[1]).replace(/\r\n|\r|\n/g, "\r\n")];
      });
      var sent = new URLSearchParams(entries).toString().length;
      if (!limit || sent <= limit) {
        if (tooLong) {
          tooLong.remove();
          tooLong = null;
          bodyField.classList.toggle("field--error", erredBefore);
          bodyBox.removeAttribute("aria-invalid");
          if (describedBefore) {
            bodyBox.setAttribute("aria-describedby", describedBefore);
          } else {
            bodyBox.removeAttribute("aria-describedby");
          }
        }
        return;
      }
      event.preventDefault();
      event.stopImmediatePropagation();
      var length = Array.from(bodyBox.value).length; /* characters, as the site counts them */
      if (!tooLong) {
        tooLong = document.createElement("p");
        tooLong.className = "field__error";
        tooLong.id = bodyBox.id + "_too_long";
        tooLong.setAttribute("role", "alert");
        bodyBox.before(tooLong); /* where the site's own errors are (comments/widgets.py) */
        bodyField.classList.add("field--error");
        bodyBox.setAttribute(
          "aria-describedby",
          ((describedBefore || "") + " " + tooLong.id).trim()
        );
      }
      tooLong.textContent =
        "Your comment is " + length.toLocaleString("en") + " characters long, far more " +
        "than a comment may be (" + Number(bodyBox.dataset.maxLength).toLocaleString("en") +
        " characters): please shorten it, then send it again. Nothing was sent.";
      bodyBox.setAttribute("aria-invalid", "true");
      bodyBox.focus();
    });
  }

  if (tokenInput && !tokenInput.value) {
    /* "waiting": a send is held until the token comes, and a second click (a double click)
       waits with it rather than going without; "done": the token came, or could not, and
       the form goes as it is. */
    var heldSend = "";
    form.addEventListener("submit", function (event) {
      if (tokenInput.value || heldSend === "done") {
        return;
      }
      event.preventDefault();
      if (heldSend === "waiting") {
        return;
      }
      heldSend = "waiting";
      var submitter = event.submitter;
      startWriting().then(function () {
        heldSend = "done";
        form.requestSubmit(submitter);
      });
    });
  }

  /* A new question without reloading. Past the budget for new questions the server says
     why, next to the button, and the question stays. */
  if (refresh) {
    var paused = document.createElement("p");
    paused.className = "respond__note";
    paused.setAttribute("aria-live", "polite");
    refresh.parentNode.after(paused);

    refresh.addEventListener("click", function (event) {
      event.preventDefault();
      var request = fetch(refresh.dataset.refreshUrl, {
        headers: { "X-Requested-With": "XMLHttpRequest" },
        credentials: "same-origin",
      })
        .then(function (response) {
          if (response.status === 429) {
            return response.json().then(function (data) {
              paused.textContent = data.message;
            });
          }
          if (!response.ok) {
            throw new Error("refresh failed");
          }
          return response.json().then(function (question) {
            paused.textContent = "";
            useQuestion(question, { focus: true });
          });
        })
        .catch(function () {
          /* Fall back to the no-JavaScript way: post the form back for a new question. */
          form.requestSubmit(refresh);
        });
      replacingQuestion(request);
    });
  }
})();
