"""Messages of the customer file (客户档案): its parts (contacts, relationships,
follow-ups, files), the customer page and the home page. One section per part of the
file, so each grows on its own."""
from __future__ import annotations

FILE: dict[str, dict[str, str]] = {
    # -- contacts ---------------------------------------------------------------------
    "contact.is_primary": {"zh": "主联系人", "en": "Primary contact"},

    # -- relationships ----------------------------------------------------------------
    "error.relationship_self": {"zh": "客户不能与自己建立关系。", "en": "A customer cannot be linked to itself."},
    "error.relationship_other_missing": {
        "zh": "找不到要关联的客户（可能已归档或已合并）。",
        "en": "The customer to link to was not found (it may be archived or merged).",
    },
    "error.relationship_duplicate": {
        "zh": "已与 {name}（{code}）建立了相同的关系。",
        "en": "This relationship with {name} ({code}) already exists.",
    },
    "error.relationship_cycle": {
        "zh": "不能建立该母子公司关系：一家公司会成为自己的母公司。",
        "en": "This parent/subsidiary link would make a company its own parent.",
    },

    # -- follow-ups -------------------------------------------------------------------
    "validation.date_invalid": {"zh": "“{value}”不是有效日期，请按 2026-03-01 的格式填写。",
                                "en": "“{value}” is not a valid date; write it as 2026-03-01."},
    "validation.date_out_of_range": {"zh": "日期须在 {min} 至 {max} 之间。",
                                     "en": "The date must be between {min} and {max}."},
    "validation.need_state_only_for_needs": {"zh": "只有“客户需求”类的跟进有需求状态，请清空此项。",
                                             "en": "Only a customer need has a state; leave this empty."},
    "error.followup_not_yours": {
        "zh": "只有记录人、负责跟进人或经理可以修改客户 {code} 的这条跟进。",
        "en": "Only its author, its assignee or a manager may change this follow-up of customer {code}."},
    "error.campaign_too_large": {
        "zh": "当前搜索有 {count} 个客户，超过一次关怀活动的上限 {cap} 个。请缩小搜索范围后再试，未创建任何跟进。",
        "en": "The search has {count} customers, more than the {cap} one care campaign may reach. "
              "Narrow the search and try again; no follow-up was created."},

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
