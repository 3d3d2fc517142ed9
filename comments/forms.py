"""The "Leave a Reply" form."""

import time
import unicodedata
from urllib.parse import urlsplit

from django import forms
from django.conf import settings
from django.core import signing
from django.core.exceptions import NON_FIELD_ERRORS
from django.core.validators import MaxLengthValidator, URLValidator
from django.forms.utils import ErrorDict

from newsroom.control_characters import has_control_characters

from .captcha import MathCaptchaField, is_valid_key, question_is_open, question_of_ones_own
from .models import (
    WEBSITE_TYPED_MAX_LENGTH,
    Comment,
    email_addresses_in,
    is_id,
    website_names_someone,
)
from .widgets import CommentFormRenderer

BODY_MIN_LENGTH = 2
CONTROL_CHARACTERS = "Please remove the invisible control characters from this field."
# Unicode's "stream-safe" text (UAX #15) has at most 30 marks in a row; writing needs a few.
MARKS_IN_A_ROW_LIMIT = 30
PILED_UP_MARKS = (
    f"Please remove some of the marks piled on one letter: more than {MARKS_IN_A_ROW_LIMIT} "
    "in a row spill over the page around the comment."
)
NOTHING_VISIBLE = "Please type something readers can see: this holds only invisible characters."
TOO_FAST = (
    "That was quicker than we expect from a person. Please check your comment and send it again."
)
FORM_NOT_CHECKED = "We could not check this form. Please send it again."
BAD_PARENT = (
    "The comment you are replying to is not available any more: send yours as a new comment, "
    "or reply to another one."
)
STARTED_SALT = "comments.form-started"
WEBSITE_TOO_LONG = (
    "Please shorten this address to {limit} characters, not counting http:// or https:// "
    "(it has {length})."
)
WEBSITE_WITH_AN_EMAIL = (
    "This looks like an email address, and the website is shown with your name: please put "
    "your email in the Email box only, and a web address here (or leave it empty)."
)
NAME_WITH_AN_EMAIL = (
    "This looks like an email address, and your name is shown with your comment: please put "
    "your email in the Email box only, and here the name readers will see."
)
BODY_ALLOWED_CONTROLS = {"\n", "\r", "\t"}
TYPED_FIELDS = ("name", "email", "url", "body")
TYPED_CHECKBOXES = ("notify_on_publish", "remember")


def has_visible_characters(value):
    """A letter, digit, punctuation mark or symbol: not only zero-width or combining marks."""
    return any(unicodedata.category(char)[0] in "LNPS" for char in value)


def sign_started(article_pk):
    """When the form was shown, signed so a bot cannot claim it waited."""
    return signing.dumps([article_pk, time.time()], salt=STARTED_SALT, compress=False)


def read_started(token):
    """The (article pk, time) a "form shown at" value was signed with; None if not ours."""
    try:
        article_pk, started = signing.loads(token, salt=STARTED_SALT)
    except (signing.BadSignature, TypeError, ValueError):
        return None
    if not isinstance(started, float):  # signed by the site, but not as sign_started signs
        return None
    return article_pk, started


def started_again(token, article_pk):
    """The "form shown at" of a form shown again (errors, a new question, one more step for
    the CSRF cookie): still when the reader first got it, since fixing a field and answering
    a new question takes seconds; only a value that is not ours starts the clock again."""
    signed = read_started(token)
    return token if signed and signed[0] == article_pk else sign_started(article_pk)


class NoControlCharactersMixin:
    allowed_controls = frozenset()

    def validate(self, value):
        super().validate(value)
        if value and has_control_characters(value, allowed=self.allowed_controls):
            raise forms.ValidationError(CONTROL_CHARACTERS, code="control_characters")


def has_piled_up_marks(value):
    """More combining marks in a row than any writing puts on one letter ("Zalgo" text): a
    letter and its marks are one character to the browser, which no line break splits, so
    hundreds of them push the page sideways, or pile over the text around them."""
    in_a_row = 0
    for char in value:
        category = unicodedata.category(char)
        if category[0] == "M":
            in_a_row += 1
        elif category != "Cf":  # an invisible joiner between marks leaves them on one letter
            in_a_row = 0
        if in_a_row > MARKS_IN_A_ROW_LIMIT:
            return True
    return False


class VisibleTextMixin(NoControlCharactersMixin):
    """Shown to readers, so there must be something to see (a name, a comment), and nothing
    that spills over the rest of the page."""

    def validate(self, value):
        super().validate(value)
        if value and not has_visible_characters(value):
            raise forms.ValidationError(NOTHING_VISIBLE, code="nothing_visible")
        if value and has_piled_up_marks(value):
            raise forms.ValidationError(PILED_UP_MARKS, code="piled_up_marks")


class TextField(VisibleTextMixin, forms.CharField):
    pass


class NameField(TextField):
    """Shown with the comment: an email address in it (the boxes swapped, or autofill) would
    publish what the Email box promises to keep. A name with an @ that is no address
    ("Ada @ the harbour") is a name."""

    def validate(self, value):
        super().validate(value)
        # Within the box's length alone (a longer name is refused for it): a bot's name as
        # long as a post may be holds tens of thousands of words with an @ to check.
        if value and len(value) <= self.max_length and email_addresses_in(value):
            raise forms.ValidationError(NAME_WITH_AN_EMAIL, code="email")


class LineBreakAsOneMaxLengthValidator(MaxLengthValidator):
    """Counts a line break as one character, as the reader sees it (and as a textarea's
    maxlength would): the browser sends each as two (CR LF), which Django's own validator
    counts."""

    def clean(self, x):
        return len(x.replace("\r\n", "\n"))


class BodyField(VisibleTextMixin, forms.CharField):
    allowed_controls = frozenset(BODY_ALLOWED_CONTROLS)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.validators = [
            LineBreakAsOneMaxLengthValidator(self.max_length)
            if type(validator) is MaxLengthValidator
            else validator
            for validator in self.validators
        ]

    def widget_attrs(self, widget):
        """No maxlength on the box: the browser would cut a longer pasted text at the limit
        without a word, and the end of the comment would be lost. The limit is checked on
        sending instead, where the reader is told the length and gets the whole text back.

        That takes a form the site reads: one longer than PUBLIC_DATA_UPLOAD_MAX_MEMORY_SIZE
        is answered with a short page, unread (newsroom.middleware), away from the text,
        which 30,000 Chinese characters pasted (nine bytes each, as sent) are. The script
        tells the reader instead, without sending (static/js/comments.js): the limits it
        needs are on the box."""
        attrs = super().widget_attrs(widget)
        max_length = attrs.pop("maxlength", None)
        if max_length is not None:
            attrs["data-max-length"] = max_length
            attrs["data-max-form-bytes"] = str(settings.PUBLIC_DATA_UPLOAD_MAX_MEMORY_SIZE)
        return attrs


class EmailField(NoControlCharactersMixin, forms.EmailField):
    pass


class WebsiteField(NoControlCharactersMixin, forms.URLField):
    """`address_max_length` counts the address after its scheme, as readers type it: the
    field writes "example.com" as "https://example.com", and a remembered address comes
    back with the https:// it was stored with. The box takes the scheme on top."""

    default_validators = [URLValidator(schemes=["http", "https"])]

    def __init__(self, *, address_max_length, **kwargs):
        self.address_max_length = address_max_length
        super().__init__(**kwargs)

    def widget_attrs(self, widget):
        return {
            **super().widget_attrs(widget),
            "maxlength": str(self.address_max_length + len("https://")),
        }

    def validate(self, value):
        super().validate(value)
        try:
            urlsplit(value)
        except ValueError:  # brackets no host has ("[ada.example]"): no address, no email
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None
        # to_python has written a scheme in front of every address.
        if value and website_names_someone(value):
            raise forms.ValidationError(WEBSITE_WITH_AN_EMAIL, code="email")
        length = len(value.partition("://")[2])
        if length > self.address_max_length:
            raise forms.ValidationError(
                WEBSITE_TOO_LONG.format(limit=self.address_max_length, length=length),
                code="max_length",
            )


class ReplyTargetField(forms.IntegerField):
    """The hidden `parent` input: a comment's id, in the one spelling the form writes."""

    def to_python(self, value):
        if value not in self.empty_values and not is_id(str(value)):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return super().to_python(value)


class CommentForm(forms.Form):
    """What a reader types, plus the hidden parts that keep bots out.

    Field names are part of the public contract (scripts and the benchmark post them).
    """

    field_order = ["body", "name", "email", "url", "captcha"]
    default_renderer = CommentFormRenderer()

    name = NameField(
        max_length=Comment._meta.get_field("name").max_length,
        help_text="Shown with your comment.",
        widget=forms.TextInput(attrs={"autocomplete": "name", "dir": "auto"}),
    )
    email = EmailField(
        max_length=Comment._meta.get_field("email").max_length,
        help_text="Never published. We write to it only if a moderator must, or if you ask below.",
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    url = WebsiteField(
        label="Website",
        required=False,
        address_max_length=WEBSITE_TYPED_MAX_LENGTH,
        assume_scheme="https",
        help_text="Optional. Your name will link to it.",
        # Text with a web-address keyboard, not type="url": the browser would refuse
        # "example.com", which the field takes as https://example.com.
        widget=forms.TextInput(
            attrs={
                "inputmode": "url",
                "autocomplete": "url",
                "autocapitalize": "none",
                "spellcheck": "false",
            }
        ),
    )
    body = BodyField(
        label="Comment",
        min_length=BODY_MIN_LENGTH,
        max_length=Comment._meta.get_field("body").max_length,
        help_text=(
            f"Plain text, up to {Comment._meta.get_field('body').max_length:,} characters. "
            "Links become clickable."
        ),
        widget=forms.Textarea(attrs={"rows": 8, "cols": 45, "dir": "auto"}),
    )
    captcha = MathCaptchaField(
        label="Answer the math question",
        help_text="Type the answer as a number, for example 12.",
    )
    parent = ReplyTargetField(
        required=False,
        widget=forms.HiddenInput,
        min_value=1,
        error_messages={"invalid": BAD_PARENT, "min_value": BAD_PARENT},
    )
    notify_on_publish = forms.BooleanField(
        label="Email me when my comment is published", required=False
    )
    remember = forms.BooleanField(
        label="Save my name, email, and website in this browser for the next time I comment.",
        required=False,
    )
    # A field people never see nor hear; bots that fill every input fill it.
    phone = forms.CharField(
        label="Leave this field empty",
        required=False,
        widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}),
    )
    started = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, article, visible_parents=None, **kwargs):
        """`visible_parents` maps the ids of comments readers can reply to onto them."""
        super().__init__(*args, **kwargs)
        self.article = article
        self.visible_parents = visible_parents
        self.fields["started"].initial = sign_started(article.pk)
        self.parent_comment = None
        # A reply was asked for (a reply link, a form sent back) to a comment readers can no
        # longer see: the form is a top-level one, and says so.
        self.reply_target_gone = False

    def clean_parent(self):
        parent_id = self.cleaned_data.get("parent")
        if parent_id is None:
            return None
        parent = (self.visible_parents or {}).get(parent_id)
        if parent is None:
            raise forms.ValidationError(BAD_PARENT, code="bad_parent")
        self.parent_comment = parent
        return parent_id

    def clean_started(self):
        signed = read_started(self.cleaned_data.get("started", ""))
        if signed is None or signed[0] != self.article.pk:
            raise forms.ValidationError(FORM_NOT_CHECKED, code="unsigned")
        return signed[1]

    def clean(self):
        """Sent sooner than COMMENTS_MIN_SUBMIT_SECONDS is "too fast" only when nothing else
        is wrong: bots fill in every field at once, while a person who sends an empty or
        half-written form in the first seconds (Send clicked by mistake) must be told what
        is missing, not that they were quick."""
        cleaned_data = super().clean()
        if self.errors:
            return cleaned_data
        if time.time() - cleaned_data["started"] < settings.COMMENTS_MIN_SUBMIT_SECONDS:
            self.add_error("started", forms.ValidationError(TOO_FAST, code="too_fast"))
        return cleaned_data

    @classmethod
    def with_typed_values(cls, data, *, article, visible_parents):
        """An unchecked form showing what was typed: for "new question", a comment chosen to
        reply to (a Reply button's `replyto`, empty for Cancel reply) and stale forms.

        Unbound, so nothing is validated and the captcha question is not used up.
        """
        initial = {name: data.get(name, "") for name in TYPED_FIELDS}
        initial.update({name: bool(data.get(name)) for name in TYPED_CHECKBOXES})
        initial["started"] = started_again(data.get("started", ""), article.pk)
        form = cls(article=article, initial=initial, visible_parents=visible_parents)
        if "replyto" in data:
            form.ask_to_reply_to(data["replyto"])
            form.keep_question(data.get("captcha_0"), data.get("captcha_1", ""))
        else:
            form.ask_to_reply_to(data.get("parent", ""))
        return form

    def give_back_unchecked(self, message):
        """Send the form back as typed with `message` alone, checked or not: the database
        that checks it (the question is claimed in it) refused the post, perhaps before the
        form was read, and reading it now would ask that database again."""
        self.cleaned_data = {}
        self._errors = ErrorDict(
            {NON_FIELD_ERRORS: self.error_class([message], error_class="nonfield")}
        )

    def keep_question(self, key, answer):
        """Show the reader's question again, with their answer, while it can still be
        answered: choosing whom to reply to checks nothing, so it did not use it up."""
        if is_valid_key(key) and isinstance(answer, str) and question_is_open(key):
            self.fields["captcha"].widget.kept_question = (key, answer)

    def ask_own_question(self):
        """Ask a new question of the reader's own in place of one of the pool's, which other
        readers are shown too and may use up first: for a form that is this reader's alone
        (sent back, never cached). A question kept stays. One insert, which the caller
        counts (ratelimit.claim_redisplay)."""
        if self.kept_answer is None:
            self.fields["captcha"].widget.own_question = question_of_ones_own()

    @property
    def asks_own_question(self):
        """Whether the question is the reader's own (ask_own_question): comments.js then asks
        for no other in its place."""
        return self.fields["captcha"].widget.own_question is not None

    @property
    def kept_answer(self):
        """The reader's answer to the question kept (empty when they gave none), or None
        when the form asks a new question."""
        kept = self.fields["captcha"].widget.kept_question
        return None if kept is None else kept[1].strip()

    def ask_to_reply_to(self, raw_parent):
        """Answer the comment whose id the reader sent (?replyto=, or the hidden input of a
        form sent back), if readers can still see it."""
        if is_id(raw_parent):
            self.parent_comment = self.visible_parents.get(int(raw_parent))
            self.reply_target_gone = self.parent_comment is None
        self.initial["parent"] = self.parent_comment.pk if self.parent_comment else None

    def prepare_redisplay(self):
        """Keep every typed value and when the form was first shown; the captcha widget draws
        a new question.

        A reply target that failed the check is dropped, so sending again posts a new comment.
        """
        if self.is_bound:
            self.data = self.data.copy()
            name = self.add_prefix("started")
            self.data[name] = started_again(self.data.get(name, ""), self.article.pk)
            self.data[self.add_prefix("captcha_1")] = ""
            if "parent" in self.errors:
                self.data[self.add_prefix("parent")] = ""
        return self
