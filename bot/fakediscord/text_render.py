"""Render a Discord message (or a :class:`Reply`) as plain text for a terminal console."""

from __future__ import annotations

from typing import Any


def _message_of(obj: Any) -> dict[str, Any] | None:
    """Accept a message dict or anything with a ``message`` attribute (e.g. Reply)."""
    if obj is None or isinstance(obj, dict):
        return obj
    return getattr(obj, "message", None)


def _embed_lines(embed: dict[str, Any]) -> list[str]:
    lines = []
    author = (embed.get("author") or {}).get("name")
    if author:
        lines.append(author)
    title = embed.get("title")
    if title:
        lines.append(f"**{title}**" + (f" <{embed['url']}>" if embed.get("url") else ""))
    elif embed.get("url"):
        lines.append(f"<{embed['url']}>")
    if embed.get("description"):
        lines.extend(str(embed["description"]).splitlines())
    for field in embed.get("fields") or []:
        lines.append(f"{field.get('name', '')}:")
        lines.extend(f"  {line}" for line in str(field.get("value", "")).splitlines())
    footer = (embed.get("footer") or {}).get("text")
    if footer:
        lines.append(f"— {footer}")
    return ["│ " + line if line else "│" for line in lines]


def _component_lines(components: list[dict[str, Any]], indent: str = "") -> list[str]:
    lines = []
    for comp in components or []:
        ctype = comp.get("type")
        if ctype in (1, 17, 9):  # action row, container, section: flatten children
            buttons = [c for c in comp.get("components") or [] if c.get("type") == 2]
            others = [c for c in comp.get("components") or [] if c.get("type") != 2]
            if buttons:
                lines.append(indent + " ".join(_button(b) for b in buttons))
            lines.extend(_component_lines(others, indent))
            if isinstance(comp.get("accessory"), dict):
                lines.extend(_component_lines([comp["accessory"]], indent))
        elif ctype == 2:
            lines.append(indent + _button(comp))
        elif ctype in (3, 5, 6, 7, 8):
            lines.extend(_select(comp, indent))
        elif ctype == 10:  # text display
            lines.extend(indent + line for line in str(comp.get("content", "")).splitlines())
        elif ctype == 14:  # separator
            lines.append(indent + "─" * 20)
    return lines


def _button(comp: dict[str, Any]) -> str:
    label = comp.get("label") or (comp.get("emoji") or {}).get("name") or comp.get("custom_id", "")
    text = f"[{label}]"
    if comp.get("style") == 5 and comp.get("url"):
        text += f"({comp['url']})"
    if comp.get("disabled"):
        text = f"[{label} (disabled)]"
    return text


def _select(comp: dict[str, Any], indent: str) -> list[str]:
    placeholder = comp.get("placeholder") or "Select"
    lines = [f"{indent}<{placeholder}> ({comp.get('custom_id', '')})"]
    for option in comp.get("options") or []:
        mark = "*" if option.get("default") else "-"
        desc = f" — {option['description']}" if option.get("description") else ""
        lines.append(f"{indent}  {mark} {option.get('label', '')} = {option.get('value')}{desc}")
    return lines


def _modal_text(modal: dict[str, Any]) -> str:
    lines = [f"[form] {modal.get('title', '')}"]
    for comp in modal.get("components") or []:
        inner: dict[str, Any] = comp.get("component") or next(
            iter(comp.get("components") or []), {}
        )
        label = comp.get("label") or inner.get("label") or inner.get("custom_id", "")
        lines.append(f"  {label}: ({inner.get('custom_id', '')})")
    return "\n".join(lines)


def render_message_text(message_or_reply: Any) -> str:
    """Content, then embeds (title, url, description, fields, footer), attachments,
    then components (buttons as ``[label]``, selects as an option list)."""
    msg = _message_of(message_or_reply)
    if msg is None:
        kind = getattr(message_or_reply, "kind", None)
        choices = getattr(message_or_reply, "choices", None)
        if choices is not None:
            return "\n".join(f"- {c.get('name')} = {c.get('value')}" for c in choices)
        modal = getattr(message_or_reply, "modal", None)
        if modal is not None:
            return _modal_text(modal)
        return f"({kind or 'no message'})"
    lines: list[str] = []
    if msg.get("flags", 0) & 128:
        lines.append("(thinking…)")
    if msg.get("content"):
        lines.extend(str(msg["content"]).splitlines())
    for embed in msg.get("embeds") or []:
        if lines:
            lines.append("")
        lines.extend(_embed_lines(embed))
    for att in msg.get("attachments") or []:
        lines.append(f"📎 {att.get('filename')} ({att.get('size', 0)} bytes)")
    comp_lines = _component_lines(msg.get("components") or [])
    if comp_lines:
        lines.append("")
        lines.extend(comp_lines)
    if msg.get("flags", 0) & 64:
        lines.append("(only you can see this)")
    return "\n".join(lines)
