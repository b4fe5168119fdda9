"""Discord's message limits as a strict, pure validator.

Every payload the bot builds is a plain dict in the exact shape Discord's REST API
takes (``POST /channels/{id}/messages``, webhook follow-ups, message edits). Discord
answers a breach with a 400 (50035 "Invalid Form Body") and the user sees nothing, so
tests and the fake Discord server run :func:`message_problems` over every body and
fail loudly instead.

Lengths are counted with ``len()`` (Unicode code points), the same way discord.py's
``Embed.__len__`` does; layout code keeps a safety margin below the hard limits.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

MAX_CONTENT = 2000
MAX_EMBEDS = 10
MAX_EMBED_TITLE = 256
MAX_EMBED_DESCRIPTION = 4096
MAX_EMBED_FIELDS = 25
MAX_FIELD_NAME = 256
MAX_FIELD_VALUE = 1024
MAX_FOOTER_TEXT = 2048
MAX_AUTHOR_NAME = 256
MAX_TOTAL_EMBED_CHARS = 6000
MAX_URL = 2048
MAX_COLOR = 0xFFFFFF

MAX_ACTION_ROWS = 5
MAX_BUTTONS_PER_ROW = 5
MAX_BUTTON_LABEL = 80
MAX_CUSTOM_ID = 100
MAX_SELECT_OPTIONS = 25
MAX_OPTION_LABEL = 100
MAX_OPTION_VALUE = 100
MAX_OPTION_DESCRIPTION = 100
MAX_PLACEHOLDER = 150

# Layout code packs embeds against this instead of the hard 6000, so a one-off
# miscount (or a later tweak to a footer) never turns into a rejected message.
EMBED_CHAR_BUDGET = 5800

NO_MENTIONS: dict[str, list[str]] = {"parse": []}

_ACTION_ROW = 1
_BUTTON = 2
_STRING_SELECT = 3
_TEXT_INPUT = 4
_AUTO_SELECTS = {5: "user select", 6: "role select", 7: "mentionable select", 8: "channel select"}
_LINK_STYLE = 5
_PREMIUM_STYLE = 6
_BUTTON_STYLES = {1, 2, 3, 4, 5, 6}
_ALLOWED_MENTION_KEYS = {"parse", "users", "roles", "replied_user"}

# Interaction callback types (POST /interactions/{id}/{token}/callback).
_PONG = 1
_MESSAGE = 4
_DEFERRED_MESSAGE = 5
_DEFERRED_UPDATE = 6
_UPDATE_MESSAGE = 7
_AUTOCOMPLETE = 8
_MODAL = 9


def embed_length(embed: Mapping[str, object]) -> int:
    """The characters Discord counts towards the 6000-per-message embed total.

    That is title + description + every field name and value + footer text + author
    name. URLs, colours and images are free. Non-string values count as 0 here;
    :func:`message_problems` reports them separately.
    """
    if not isinstance(embed, dict):
        return 0
    total = _strlen(embed.get("title")) + _strlen(embed.get("description"))
    fields = embed.get("fields")
    if isinstance(fields, list):
        for item in fields:
            if isinstance(item, dict):
                total += _strlen(item.get("name")) + _strlen(item.get("value"))
    for key, sub in (("footer", "text"), ("author", "name")):
        part = embed.get(key)
        if isinstance(part, dict):
            total += _strlen(part.get(sub))
    return total


def message_problems(payload: object, *, partial: bool = False) -> list[str]:
    """Every reason Discord would reject ``payload`` (or we refuse to send it).

    An empty list means the message is valid. ``allowed_mentions`` must be exactly
    "parse nothing" and is required whenever the body has ``content`` or ``embeds``.
    A body must show something (non-blank content, an embed or a component), except
    that a body setting only ``components`` is taken as a button edit.
    ``partial=True`` is for other edits (``PATCH`` a message, interaction "update
    message"), where omitted keys keep their old value, so e.g. ``{"content": ""}``
    (clearing the text under remaining embeds) is fine.
    """
    if not isinstance(payload, dict):
        return [f"payload must be a dict, got {type(payload).__name__}"]
    problems: list[str] = []

    content = payload.get("content")
    has_content = False
    if content is not None:
        if not isinstance(content, str):
            problems.append(f"content must be a string, got {type(content).__name__}")
        else:
            # Discord treats whitespace-only content as empty ("Cannot send an empty message").
            has_content = bool(content.strip())
            if len(content) > MAX_CONTENT:
                problems.append(f"content is {len(content)} chars (max {MAX_CONTENT})")

    embeds = payload.get("embeds")
    embed_list: list[Any] = []
    if embeds is not None:
        if not isinstance(embeds, list):
            problems.append(f"embeds must be a list, got {type(embeds).__name__}")
        else:
            embed_list = embeds
            if len(embeds) > MAX_EMBEDS:
                problems.append(f"{len(embeds)} embeds (max {MAX_EMBEDS})")
            for i, embed in enumerate(embeds):
                problems.extend(_embed_problems(embed, f"embeds[{i}]"))
            total = sum(embed_length(e) for e in embeds)
            if total > MAX_TOTAL_EMBED_CHARS:
                problems.append(
                    f"embeds total {total} chars (max {MAX_TOTAL_EMBED_CHARS} summed over "
                    "titles, descriptions, field names/values, footer texts, author names)"
                )

    components = payload.get("components")
    component_count = 0
    if components is not None:
        if not isinstance(components, list):
            problems.append(f"components must be a list, got {type(components).__name__}")
        else:
            component_count = len(components)
            problems.extend(_components_problems(components))

    if "tts" in payload and not isinstance(payload["tts"], bool):
        problems.append("tts must be a bool")

    carries_text = "content" in payload or "embeds" in payload
    other_body = any(payload.get(k) for k in ("attachments", "sticker_ids", "poll"))
    # A body that sets only `components` (discord.py's `edit(view=None)` sends
    # {"components": []}) can only be an edit that leaves the text alone.
    buttons_only_edit = "components" in payload and not carries_text
    if not (partial or buttons_only_edit) and not (
        has_content or embed_list or component_count or other_body
    ):
        problems.append("message has no content, embeds or components (Discord rejects it)")

    # Only text can mention anyone, so the rule binds whenever content or embeds are sent.
    if "allowed_mentions" not in payload:
        if carries_text:
            problems.append('allowed_mentions is missing (must be {"parse": []})')
    else:
        problems.extend(_allowed_mentions_problems(payload["allowed_mentions"]))
    return problems


def assert_valid_message(payload: object, *, partial: bool = False) -> None:
    """Raise AssertionError listing every problem in ``payload``; used in tests."""
    problems = message_problems(payload, partial=partial)
    if problems:
        raise AssertionError("invalid Discord message:\n  - " + "\n  - ".join(problems))


def interaction_response_problems(body: object) -> list[str]:
    """Problems in an interaction callback body (``{"type": N, "data": {...}}``).

    Message-bearing types are checked with :func:`message_problems` (type 7 edits the
    original message, so it is partial); autocomplete and modal bodies get their own
    limits. Deferrals and pongs only need a known type.
    """
    if not isinstance(body, dict):
        return [f"interaction response must be a dict, got {type(body).__name__}"]
    kind = body.get("type")
    data = body.get("data")
    if kind in (_PONG, _DEFERRED_UPDATE):
        return []
    if kind == _DEFERRED_MESSAGE:
        if data is not None and not isinstance(data, dict):
            return ["deferred response data must be a dict"]
        return []
    if kind in (_MESSAGE, _UPDATE_MESSAGE):
        if not isinstance(data, dict):
            return [f"interaction response type {kind} needs a data dict"]
        return message_problems(data, partial=kind == _UPDATE_MESSAGE)
    if kind == _AUTOCOMPLETE:
        return _autocomplete_problems(data)
    if kind == _MODAL:
        return _modal_problems(data)
    return [f"unknown interaction response type {kind!r}"]


# --- embeds ---------------------------------------------------------------------------


def _strlen(value: object) -> int:
    return len(value) if isinstance(value, str) else 0


def _check_str(
    problems: list[str],
    value: object,
    where: str,
    limit: int,
    *,
    required: bool = False,
) -> None:
    """Append a problem if ``value`` is not a string within ``limit`` chars.

    ``required`` means Discord rejects an absent, empty or whitespace-only value.
    """
    if value is None:
        if required:
            problems.append(f"{where} is required")
        return
    if not isinstance(value, str):
        problems.append(f"{where} must be a string, got {type(value).__name__}")
        return
    if required and not value.strip():
        problems.append(f"{where} must not be empty")
    if len(value) > limit:
        problems.append(f"{where} is {len(value)} chars (max {limit})")


def _check_url(
    problems: list[str], value: object, where: str, *, schemes: tuple[str, ...] = ("http", "https")
) -> None:
    if value is None:
        return
    if not isinstance(value, str):
        problems.append(f"{where} must be a string, got {type(value).__name__}")
        return
    if len(value) > MAX_URL:
        problems.append(f"{where} is {len(value)} chars (max {MAX_URL})")
    try:
        parts = urlsplit(value)
    except ValueError:
        problems.append(f"{where} is not a valid URL: {value[:80]!r}")
        return
    if parts.scheme not in schemes or (parts.scheme in ("http", "https") and not parts.netloc):
        problems.append(f"{where} must be an {'/'.join(schemes)} URL, got {value[:80]!r}")
    if any(c.isspace() for c in value):
        problems.append(f"{where} contains whitespace")


def _embed_problems(embed: object, where: str) -> list[str]:
    if not isinstance(embed, dict):
        return [f"{where} must be a dict, got {type(embed).__name__}"]
    problems: list[str] = []
    _check_str(problems, embed.get("title"), f"{where}.title", MAX_EMBED_TITLE)
    _check_str(problems, embed.get("description"), f"{where}.description", MAX_EMBED_DESCRIPTION)
    _check_url(problems, embed.get("url"), f"{where}.url")
    if "type" in embed and embed["type"] != "rich":
        problems.append(f"{where}.type must be 'rich' for bot-sent embeds")

    color = embed.get("color")
    if color is not None and (
        not isinstance(color, int) or isinstance(color, bool) or not 0 <= color <= MAX_COLOR
    ):
        problems.append(f"{where}.color must be an int in 0..0xFFFFFF, got {color!r}")
    timestamp = embed.get("timestamp")
    if timestamp is not None and not isinstance(timestamp, str):
        problems.append(f"{where}.timestamp must be an ISO 8601 string")

    fields = embed.get("fields")
    if fields is not None:
        if not isinstance(fields, list):
            problems.append(f"{where}.fields must be a list")
        else:
            if len(fields) > MAX_EMBED_FIELDS:
                problems.append(f"{where} has {len(fields)} fields (max {MAX_EMBED_FIELDS})")
            for j, item in enumerate(fields):
                fw = f"{where}.fields[{j}]"
                if not isinstance(item, dict):
                    problems.append(f"{fw} must be a dict")
                    continue
                _check_str(problems, item.get("name"), f"{fw}.name", MAX_FIELD_NAME, required=True)
                _check_str(
                    problems, item.get("value"), f"{fw}.value", MAX_FIELD_VALUE, required=True
                )
                if "inline" in item and not isinstance(item["inline"], bool):
                    problems.append(f"{fw}.inline must be a bool")

    footer = embed.get("footer")
    if footer is not None:
        if not isinstance(footer, dict):
            problems.append(f"{where}.footer must be a dict")
        else:
            _check_str(
                problems, footer.get("text"), f"{where}.footer.text", MAX_FOOTER_TEXT, required=True
            )
            _check_url(
                problems,
                footer.get("icon_url"),
                f"{where}.footer.icon_url",
                schemes=("http", "https", "attachment"),
            )

    author = embed.get("author")
    if author is not None:
        if not isinstance(author, dict):
            problems.append(f"{where}.author must be a dict")
        else:
            _check_str(
                problems, author.get("name"), f"{where}.author.name", MAX_AUTHOR_NAME, required=True
            )
            _check_url(problems, author.get("url"), f"{where}.author.url")
            _check_url(
                problems,
                author.get("icon_url"),
                f"{where}.author.icon_url",
                schemes=("http", "https", "attachment"),
            )

    for key in ("image", "thumbnail"):
        media = embed.get(key)
        if media is None:
            continue
        if not isinstance(media, dict):
            problems.append(f"{where}.{key} must be a dict")
            continue
        if media.get("url") is None:
            problems.append(f"{where}.{key}.url is required")
        _check_url(
            problems,
            media.get("url"),
            f"{where}.{key}.url",
            schemes=("http", "https", "attachment"),
        )

    if embed_length(embed) == 0 and not any(embed.get(k) for k in ("image", "thumbnail")):
        # Discord accepts it, but an invisible embed is always a layout bug.
        problems.append(f"{where} is empty (no title, description, fields, footer or author)")
    return problems


# --- mentions -------------------------------------------------------------------------


def _allowed_mentions_problems(value: object) -> list[str]:
    if not isinstance(value, dict):
        return [f'allowed_mentions must be {{"parse": []}}, got {value!r}']
    problems: list[str] = []
    unknown = set(value) - _ALLOWED_MENTION_KEYS
    if unknown:
        problems.append(f"allowed_mentions has unknown keys {sorted(unknown)}")
    if "parse" not in value:
        # {} would also suppress pings, but an explicit empty parse list is the one form
        # whose meaning does not depend on which other keys happen to be present.
        problems.append("allowed_mentions.parse is missing (must be [])")
    elif value["parse"] != []:
        problems.append(f"allowed_mentions.parse must be [] (got {value['parse']!r})")
    for key in ("users", "roles"):
        if key in value and value[key] != []:
            problems.append(f"allowed_mentions.{key} must be empty (got {value[key]!r})")
    if "replied_user" in value and not isinstance(value["replied_user"], bool):
        problems.append("allowed_mentions.replied_user must be a bool")
    return problems


# --- components -----------------------------------------------------------------------


def _components_problems(rows: list[Any]) -> list[str]:
    problems: list[str] = []
    if len(rows) > MAX_ACTION_ROWS:
        problems.append(f"{len(rows)} action rows (max {MAX_ACTION_ROWS})")
    seen_ids: dict[str, str] = {}
    for i, row in enumerate(rows):
        rw = f"components[{i}]"
        if not isinstance(row, dict) or row.get("type") != _ACTION_ROW:
            problems.append(f"{rw} must be an action row (type 1)")
            continue
        children = row.get("components")
        if not isinstance(children, list) or not children:
            problems.append(f"{rw} must hold 1..5 buttons or exactly 1 select")
            continue
        kinds = [c.get("type") if isinstance(c, dict) else None for c in children]
        selects = [k for k in kinds if k == _STRING_SELECT or k in _AUTO_SELECTS]
        if selects and len(children) != 1:
            problems.append(
                f"{rw} mixes a select with other components (a select needs its own row)"
            )
        buttons = [k for k in kinds if k == _BUTTON]
        if len(buttons) > MAX_BUTTONS_PER_ROW:
            problems.append(f"{rw} has {len(buttons)} buttons (max {MAX_BUTTONS_PER_ROW})")
        for j, child in enumerate(children):
            cw = f"{rw}.components[{j}]"
            if not isinstance(child, dict):
                problems.append(f"{cw} must be a dict")
                continue
            kind = child.get("type")
            if kind == _BUTTON:
                problems.extend(_button_problems(child, cw))
            elif kind == _STRING_SELECT or kind in _AUTO_SELECTS:
                problems.extend(_select_problems(child, cw))
            elif kind == _TEXT_INPUT:
                problems.append(f"{cw} is a text input, which is only valid in modals")
            else:
                problems.append(f"{cw} has unsupported component type {kind!r}")
            custom_id = child.get("custom_id")
            if isinstance(custom_id, str):
                if custom_id in seen_ids:
                    problems.append(
                        f"{cw}.custom_id {custom_id!r} duplicates {seen_ids[custom_id]} "
                        "(custom_ids must be unique per message)"
                    )
                else:
                    seen_ids[custom_id] = cw
    return problems


def _button_problems(button: dict[str, Any], where: str) -> list[str]:
    problems: list[str] = []
    style = button.get("style")
    if style not in _BUTTON_STYLES:
        problems.append(f"{where}.style must be one of 1..6, got {style!r}")
    label = button.get("label")
    _check_str(problems, label, f"{where}.label", MAX_BUTTON_LABEL)
    if style != _PREMIUM_STYLE and not label and not button.get("emoji"):
        problems.append(f"{where} needs a label or an emoji")
    if style == _LINK_STYLE:
        if button.get("url") is None:
            problems.append(f"{where} is a link button without a url")
        _check_url(
            problems, button.get("url"), f"{where}.url", schemes=("http", "https", "discord")
        )
        if "custom_id" in button:
            problems.append(f"{where} is a link button and must not have a custom_id")
    elif style == _PREMIUM_STYLE:
        if not button.get("sku_id"):
            problems.append(f"{where} is a premium button without a sku_id")
    else:
        _check_str(
            problems, button.get("custom_id"), f"{where}.custom_id", MAX_CUSTOM_ID, required=True
        )
        if "url" in button:
            problems.append(f"{where} has a url but is not a link button (style 5)")
    if "disabled" in button and not isinstance(button["disabled"], bool):
        problems.append(f"{where}.disabled must be a bool")
    return problems


def _select_problems(select: dict[str, Any], where: str) -> list[str]:
    problems: list[str] = []
    _check_str(
        problems, select.get("custom_id"), f"{where}.custom_id", MAX_CUSTOM_ID, required=True
    )
    _check_str(problems, select.get("placeholder"), f"{where}.placeholder", MAX_PLACEHOLDER)
    min_values = select.get("min_values", 1)
    max_values = select.get("max_values", 1)
    if not isinstance(min_values, int) or not 0 <= min_values <= MAX_SELECT_OPTIONS:
        problems.append(f"{where}.min_values must be 0..25, got {min_values!r}")
        min_values = None
    if not isinstance(max_values, int) or not 1 <= max_values <= MAX_SELECT_OPTIONS:
        problems.append(f"{where}.max_values must be 1..25, got {max_values!r}")
        max_values = None
    if min_values is not None and max_values is not None and min_values > max_values:
        problems.append(f"{where}.min_values ({min_values}) exceeds max_values ({max_values})")

    if select.get("type") != _STRING_SELECT:
        if "options" in select:
            problems.append(f"{where} is an auto-populated select and must not have options")
        return problems

    options = select.get("options")
    if not isinstance(options, list) or not 1 <= len(options) <= MAX_SELECT_OPTIONS:
        count = len(options) if isinstance(options, list) else "no"
        problems.append(f"{where} has {count} options (need 1..{MAX_SELECT_OPTIONS})")
        return problems
    if isinstance(max_values, int) and max_values > len(options):
        problems.append(f"{where}.max_values ({max_values}) exceeds its {len(options)} options")
    values: set[str] = set()
    for k, option in enumerate(options):
        ow = f"{where}.options[{k}]"
        if not isinstance(option, dict):
            problems.append(f"{ow} must be a dict")
            continue
        _check_str(problems, option.get("label"), f"{ow}.label", MAX_OPTION_LABEL, required=True)
        _check_str(problems, option.get("value"), f"{ow}.value", MAX_OPTION_VALUE, required=True)
        _check_str(problems, option.get("description"), f"{ow}.description", MAX_OPTION_DESCRIPTION)
        value = option.get("value")
        if isinstance(value, str):
            if value in values:
                problems.append(f"{ow}.value {value!r} is not unique in its select")
            values.add(value)
        if "default" in option and not isinstance(option["default"], bool):
            problems.append(f"{ow}.default must be a bool")
    return problems


# --- other interaction callbacks -------------------------------------------------------

MAX_CHOICES = 25  # autocomplete choices in one answer
MAX_CHOICE_NAME = 100
MAX_CHOICE_VALUE = 100
_MAX_MODAL_TITLE = 45
_MAX_TEXT_INPUT_LABEL = 45
_MAX_TEXT_INPUT_VALUE = 4000


def _autocomplete_problems(data: object) -> list[str]:
    if not isinstance(data, dict) or not isinstance(data.get("choices"), list):
        return ["autocomplete response needs data.choices (a list)"]
    choices = data["choices"]
    problems: list[str] = []
    if len(choices) > MAX_CHOICES:
        problems.append(f"{len(choices)} autocomplete choices (max {MAX_CHOICES})")
    for i, choice in enumerate(choices):
        cw = f"choices[{i}]"
        if not isinstance(choice, dict):
            problems.append(f"{cw} must be a dict")
            continue
        _check_str(problems, choice.get("name"), f"{cw}.name", MAX_CHOICE_NAME, required=True)
        value = choice.get("value")
        if isinstance(value, str):
            _check_str(problems, value, f"{cw}.value", MAX_CHOICE_VALUE)
        elif not isinstance(value, int | float) or isinstance(value, bool):
            problems.append(f"{cw}.value must be a string or number")
    return problems


def _modal_problems(data: object) -> list[str]:
    if not isinstance(data, dict):
        return ["modal response needs a data dict"]
    problems: list[str] = []
    _check_str(problems, data.get("title"), "modal.title", _MAX_MODAL_TITLE, required=True)
    _check_str(problems, data.get("custom_id"), "modal.custom_id", MAX_CUSTOM_ID, required=True)
    rows = data.get("components")
    if not isinstance(rows, list) or not 1 <= len(rows) <= MAX_ACTION_ROWS:
        problems.append("modal needs 1..5 action rows")
        return problems
    for i, row in enumerate(rows):
        rw = f"modal.components[{i}]"
        children = row.get("components") if isinstance(row, dict) else None
        if not isinstance(row, dict) or row.get("type") != _ACTION_ROW:
            problems.append(f"{rw} must be an action row (type 1)")
            continue
        if not isinstance(children, list) or len(children) != 1:
            problems.append(f"{rw} must hold exactly one text input")
            continue
        child = children[0]
        if not isinstance(child, dict) or child.get("type") != _TEXT_INPUT:
            problems.append(f"{rw} must hold a text input (type 4)")
            continue
        _check_str(
            problems, child.get("custom_id"), f"{rw}.custom_id", MAX_CUSTOM_ID, required=True
        )
        _check_str(
            problems, child.get("label"), f"{rw}.label", _MAX_TEXT_INPUT_LABEL, required=True
        )
        _check_str(problems, child.get("placeholder"), f"{rw}.placeholder", 100)
        _check_str(problems, child.get("value"), f"{rw}.value", _MAX_TEXT_INPUT_VALUE)
    return problems
