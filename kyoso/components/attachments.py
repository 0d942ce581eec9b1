"""Attachments on the page: the zone in every composer (a file button, drag
and drop, a pasted image, the phone's camera or file picker), the files
pending there, and the files on a post (a lazy, sized preview or an icon
with name, type and size; a download link through ``/files``)."""

from __future__ import annotations

import reflex as rx

from kyoso.components.ui import tid
from kyoso.services.attachments import AttachmentView
from kyoso.settings import get_settings
from kyoso.states.attachments import AttachmentState, PendingFile
from kyoso.styles import MUTED

# A pasted image (Ctrl+V in a composer) goes to that composer's file input,
# as if picked: react-dropzone then uploads it like a dropped file.
_PASTE_JS = """
if (!window.__kyosoAttachPaste) {
  window.__kyosoAttachPaste = true;
  document.addEventListener('paste', function (ev) {
    var files = ev.clipboardData && ev.clipboardData.files;
    if (!files || !files.length) return;
    var form = ev.target && ev.target.closest && ev.target.closest('form');
    var input = form && form.querySelector('input[type=file][data-testid="attach-input"]');
    if (!input) return;
    ev.preventDefault();
    var dt = new DataTransfer();
    for (var i = 0; i < files.length; i++) {
      var f = files[i];
      var name = f.name && f.name !== 'image.png' ? f.name : '貼り付け画像.' + ((f.type || 'image/png').split('/')[1] || 'png');
      dt.items.add(new File([f], name, {type: f.type}));
    }
    input.files = dt.files;
    input.dispatchEvent(new Event('change', {bubbles: true}));
  });
}
"""

_ICONS = {"pdf": "file_text", "office": "file_spreadsheet", "text": "file_type", "image": "image"}


def _upload_zone(slot: str) -> rx.Component:
    upload_id = f"attach-{slot}"
    zone = rx.upload(
        rx.hstack(
            rx.icon("paperclip", size=14),
            rx.text("ファイルを添付", size="1", weight="medium", white_space="nowrap"),
            rx.text("（ドラッグ＆ドロップ・画像の貼り付けも可）", size="1", color=MUTED),
            align="center", spacing="1",
        ),
        id=upload_id,
        multiple=True,
        max_size=get_settings().max_upload_mb * 1024 * 1024,
        on_drop=AttachmentState.upload(
            rx.upload_files(upload_id=upload_id,
                            on_upload_progress=lambda p: AttachmentState.upload_progress(slot, p)),
            slot,
        ),
        on_drop_rejected=AttachmentState.rejected(slot),
        border="1px dashed var(--gray-a7)",
        border_radius="6px",
        padding="0.25em 0.6em",
        cursor="pointer",
        drag_active_style={"background": "var(--accent-a3)", "border_color": "var(--accent-8)"},
        custom_attrs={"role": "button", "aria-label": "ファイルを添付"},
    )
    # The <input type=file> inside react-dropzone's zone carries the contract's name.
    zone_div = zone.children[0]
    file_input = zone_div.children[0]
    file_input.custom_attrs = {**file_input.custom_attrs, "data-testid": "attach-input",
                               "aria-label": "添付するファイル"}
    return zone


def _pending_item(p: rx.Var[PendingFile]) -> rx.Component:
    return rx.hstack(
        rx.cond(
            p.preview_url != "",
            rx.image(src=p.preview_url, alt=p.name, width="32px", height="32px", loading="lazy",
                     style={"object_fit": "cover", "border_radius": "4px"}),
            rx.icon("file", size=18),
        ),
        rx.text(p.name, size="1", weight="medium", style={"max_width": "14em", "overflow": "hidden",
                                                          "text_overflow": "ellipsis", "white_space": "nowrap"}),
        rx.text(p.label, " ・ ", p.size_label, size="1", color=MUTED),
        rx.icon_button(rx.icon("x", size=12), size="1", variant="ghost", type="button",
                       aria_label="添付をやめる", on_click=AttachmentState.remove(p.id),
                       custom_attrs=tid("attach-remove")),
        align="center", spacing="2", padding="0.2em 0.5em", border="1px solid var(--gray-a5)",
        border_radius="6px", custom_attrs=tid("attach-pending", **{"data-attachment-id": p.id}),
    )


def attach_zone(slot: str) -> rx.Component:
    """What a composer shows for attaching: the zone, progress, pending files, errors."""
    return rx.vstack(
        rx.script(_PASTE_JS),
        rx.hstack(
            _upload_zone(slot),
            rx.cond(
                AttachmentState.uploading == slot,
                rx.hstack(rx.spinner(size="1"), rx.text("アップロード中 ", AttachmentState.progress, "%", size="1"),
                          align="center", spacing="1", custom_attrs=tid("attach-progress")),
            ),
            align="center", spacing="2", wrap="wrap",
        ),
        rx.cond(
            (AttachmentState.attach_error != "") & (AttachmentState.error_slot == slot),
            rx.callout(AttachmentState.attach_error, icon="triangle_alert", color_scheme="red", high_contrast=True, role="alert",
                       size="1", custom_attrs=tid("form-error"), width="100%"),
        ),
        rx.hstack(
            rx.foreach(AttachmentState.pending, lambda p: rx.cond(p.slot == slot, _pending_item(p))),
            spacing="2", wrap="wrap",
        ),
        spacing="1", width="100%",
    )


def _file_card(f: rx.Var[AttachmentView]) -> rx.Component:
    return rx.box(
        rx.cond(
            f.has_preview,
            # A file is a full request to /files, not a page of the app's router:
            # Reflex renders <a href> as React Router's Link, told so by reloadDocument.
            rx.el.a(
                rx.image(src=f.preview_url, alt=f.name, loading="lazy", width=f.preview_width.to_string(),
                         height=f.preview_height.to_string(),
                         style={"max_width": "min(320px, 100%)", "height": "auto", "display": "block",
                                "border_radius": "6px", "border": "1px solid var(--gray-a5)"},
                         custom_attrs=tid("attachment-preview")),
                href=f.url, title=f.name, download="", custom_attrs={"reloadDocument": True},
            ),
        ),
        rx.hstack(
            rx.icon(rx.match(f.kind, ("pdf", "file_text"), ("office", "file_spreadsheet"),
                             ("image", "image"), "file"), size=16, color=MUTED),
            rx.el.a(f.name, href=f.url, download="",
                    custom_attrs={**tid("attachment-download"), "reloadDocument": True},
                    style={"font_size": "0.9em", "font_weight": "500", "color": "var(--accent-11)",
                           "word_break": "break-all"}),
            rx.text(f.label, " ・ ", f.size_label, size="1", color=MUTED),
            align="center", spacing="2", wrap="wrap",
        ),
        custom_attrs=tid("attachment", **{"data-attachment-id": f.id}),
        padding="0.35em 0.5em", border_radius="6px", background="var(--gray-a2)",
        style={"max_width": "100%"},
    )


def attachment_list(files: rx.Var[list[AttachmentView]]) -> rx.Component:
    return rx.flex(rx.foreach(files, _file_card), gap="0.5em", wrap="wrap", padding_top="0.25em")
