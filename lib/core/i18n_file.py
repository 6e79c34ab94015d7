"""Messages of the customer file (客户档案): its parts (contacts, relationships,
follow-ups, files), the customer page and the home page. One section per part of the
file, so each grows on its own."""
from __future__ import annotations

FILE: dict[str, dict[str, str]] = {
    # -- contacts ---------------------------------------------------------------------
    "contact.is_primary": {"zh": "主联系人", "en": "Primary contact"},

    # -- relationships ----------------------------------------------------------------

    # -- follow-ups -------------------------------------------------------------------

    # -- files ------------------------------------------------------------------------
    "validation.file_empty": {"zh": "文件是空的。", "en": "The file is empty."},
    "validation.file_too_large": {"zh": "文件太大（{size_mb} MB），最大 {max_mb} MB。",
                                  "en": "The file is too large ({size_mb} MB); the limit is {max_mb} MB."},
    "validation.file_type": {
        "zh": "不支持此文件类型（按文件内容判断，与文件名无关）。可上传 PDF、图片（PNG、JPEG、GIF、WebP）"
              "和 Office 文件（Word、Excel、PowerPoint）。",
        "en": "This type of file is not accepted (judged from its content, whatever its name). Upload a PDF, "
              "an image (PNG, JPEG, GIF, WebP) or an Office file (Word, Excel, PowerPoint)."},
    "error.file_damaged": {"zh": "文件“{name}”已损坏：内容与上传时的校验值不符。",
                           "en": "The file \"{name}\" is damaged: its content no longer matches the checksum "
                                 "recorded at upload."},

    # -- the customer page ------------------------------------------------------------

    # -- the home page ----------------------------------------------------------------
}
