"""Attachments in a real browser: attach a PDF and a photo in Japanese, see
the preview, download through /files, find the PDF's text with 「ファイルのみ」;
a second browser sees the files arrive live. The files are made here."""

from __future__ import annotations

import random
import urllib.request

import pytest
from playwright.async_api import Browser, expect

from tests.browser.conftest import FUKUOKA, NAHA, App, open_as, wait_hydrated
from tests.utils.files import make_image, make_pdf

pytestmark = pytest.mark.browser


def kana_tag() -> str:
    return "".join(random.choice("ヌペホゾネヘムヨギュ") for _ in range(5)) + random.choice("ズヅプ")


async def test_attach_preview_download_and_search_a_pdf_and_a_photo(app: App, browser: Browser) -> None:
    tag = kana_tag()
    pdf = make_pdf([f"ガバメントクラウド移行手順\n{tag}方式の接続確認を行う", "第二章 運用経費の見積もり"])
    photo = make_image("JPEG", (640, 480), gps=True)
    a = await open_as(browser, app, FUKUOKA, "/c/gov-cloud")
    b = await open_as(browser, app, NAHA, "/c/gov-cloud")
    await wait_hydrated(a)
    await wait_hydrated(b)

    # A attaches two files to the composer at once, removes nothing, sends.
    await a.locator("#composer-form [data-testid=attach-input]").set_input_files([
        {"name": "移行手順書.pdf", "mimeType": "application/pdf", "buffer": pdf},
        {"name": "庁舎の写真.jpg", "mimeType": "image/jpeg", "buffer": photo},
    ])
    pending = a.get_by_test_id("attach-pending")
    await expect(pending).to_have_count(2, timeout=20000)
    await expect(pending.first).to_contain_text("移行手順書.pdf")
    await a.get_by_test_id("composer-input").fill(f"移行の資料です {tag}")
    await a.get_by_test_id("composer-send").click()
    await expect(pending).to_have_count(0)

    # B sees the post with both files, live; the previews load through /files.
    post_b = b.get_by_test_id("message").filter(has_text=tag)
    files_b = post_b.get_by_test_id("attachment")
    await expect(files_b).to_have_count(2)
    await expect(files_b.nth(0)).to_contain_text("移行手順書.pdf")
    await expect(files_b.nth(0)).to_contain_text("PDF")
    await expect(files_b.nth(1)).to_contain_text("庁舎の写真.jpg")
    previews = post_b.get_by_test_id("attachment-preview")
    await expect(previews).to_have_count(2)  # the PDF's first page and the photo
    photo_preview = files_b.nth(1).get_by_test_id("attachment-preview")
    await expect(photo_preview).to_have_attribute("alt", "庁舎の写真.jpg")
    await expect(photo_preview).to_have_attribute("loading", "lazy")
    await photo_preview.scroll_into_view_if_needed()
    await b.wait_for_function(
        "el => el.complete && el.naturalWidth > 0", arg=await photo_preview.element_handle(), timeout=15000)
    file_id = await files_b.nth(0).get_attribute("data-attachment-id")
    assert file_id and file_id.isdigit()

    # B downloads the PDF: the same bytes, the Japanese name, as an attachment.
    async with b.expect_download() as info:
        await files_b.nth(0).get_by_test_id("attachment-download").click()
    download = await info.value
    assert download.suggested_filename == "移行手順書.pdf"
    assert open(await download.path(), "rb").read() == pdf
    async with b.expect_download() as info:
        await files_b.nth(1).get_by_test_id("attachment-download").click()
    stored_photo = open(await (await info.value).path(), "rb").read()
    assert stored_photo[:3] == b"\xff\xd8\xff" and b"Exif" not in stored_photo  # GPS gone

    # Without the member's cookie, /files answers nothing.
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{app.url}/files/{file_id}", timeout=5)
    assert refused.value.code == 401

    # The PDF's text is searchable once the background extraction ran.
    hit = b.get_by_test_id("search-result")
    for _ in range(20):
        await b.goto(f"{app.url}/search?q={tag}方式&files=1")
        await wait_hydrated(b)
        await expect(b.get_by_test_id("search-files-only")).to_be_checked()
        try:
            await expect(hit.first).to_be_visible(timeout=2000)
            break
        except AssertionError:
            await b.wait_for_timeout(1000)
    await expect(hit).to_have_count(1)
    await expect(hit.first.get_by_test_id("search-file-name")).to_have_text("移行手順書.pdf")
    await expect(hit.first).to_contain_text(f"{tag}方式")
    await a.context.close()
    await b.context.close()


async def test_paste_an_image_remove_it_and_paste_again(app: App, browser: Browser) -> None:
    tag = kana_tag()
    png = make_image("PNG", (120, 90))
    a = await open_as(browser, app, NAHA, "/c/gen-ai")
    await wait_hydrated(a)
    box = a.get_by_test_id("composer-input")

    async def paste() -> None:
        await box.evaluate(
            """(el, bytes) => {
                const dt = new DataTransfer();
                dt.items.add(new File([new Uint8Array(bytes)], 'image.png', {type: 'image/png'}));
                el.dispatchEvent(new ClipboardEvent('paste', {clipboardData: dt, bubbles: true, cancelable: true}));
            }""", list(png))

    await paste()
    pending = a.get_by_test_id("attach-pending")
    await expect(pending).to_have_count(1, timeout=20000)
    await expect(pending).to_contain_text("貼り付け画像.png")
    await pending.get_by_test_id("attach-remove").click()
    await expect(pending).to_have_count(0)
    await paste()
    await expect(pending).to_have_count(1, timeout=20000)
    await box.fill(f"画面のスクリーンショットです {tag}")
    await a.get_by_test_id("composer-send").click()
    post = a.get_by_test_id("message").filter(has_text=tag)
    await expect(post.get_by_test_id("attachment")).to_have_count(1)
    await expect(post.get_by_test_id("attachment-preview")).to_have_attribute("alt", "貼り付け画像.png")
    await a.context.close()
