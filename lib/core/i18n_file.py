"""Messages of the customer file (客户档案): its parts (contacts, relationships,
follow-ups, files), the customer page and the home page. One section per part of the
file, so each grows on its own."""
from __future__ import annotations

FILE: dict[str, dict[str, str]] = {
    # -- contacts ---------------------------------------------------------------------
    "contact.is_primary": {"zh": "主联系人", "en": "Primary contact"},
    "contact.none": {"zh": "还没有联系人。", "en": "No contacts yet."},
    "contact.add_title": {"zh": "添加联系人", "en": "Add a contact"},
    "contact.add": {"zh": "添加", "en": "Add"},
    "contact.add_as_primary": {"zh": "设为主联系人", "en": "Make it the primary contact"},
    "contact.edit": {"zh": "编辑", "en": "Edit"},
    "contact.save": {"zh": "保存联系人", "en": "Save contact"},
    "contact.cancel": {"zh": "取消", "en": "Cancel"},
    "contact.remove": {"zh": "删除", "en": "Remove"},
    "contact.make_primary": {"zh": "设为主联系人", "en": "Make primary"},
    "contact.added_toast": {"zh": "已添加联系人 {name}", "en": "Contact {name} added"},
    "contact.saved_toast": {"zh": "已保存联系人 {name}", "en": "Contact {name} saved"},
    "contact.removed_toast": {"zh": "已删除联系人 {name}", "en": "Contact {name} removed"},
    "contact.primary_toast": {"zh": "{name} 现为主联系人", "en": "{name} is now the primary contact"},

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
    "error.history_entry_not_found": {"zh": "找不到该历史记录（{ref}）。", "en": "History entry not found ({ref})."},
    "nav.customer": {"zh": "客户档案", "en": "Customer file"},
    "grid.open": {"zh": "打开", "en": "Open"},
    "grid.open_help": {"zh": "打开客户档案", "en": "Open the customer's page"},
    "cf.open_saved": {"zh": "打开 {code} 的客户档案", "en": "Open the file of {code}"},
    "cf.no_code": {"zh": "请从客户查询中打开一个客户。", "en": "Open a customer from the customers page."},
    "cf.not_found": {"zh": "找不到客户 {code}。", "en": "Customer {code} not found."},
    "cf.back": {"zh": "返回客户查询", "en": "Back to customers"},
    "cf.archived": {"zh": "已归档", "en": "Archived"},
    "cf.owner": {"zh": "负责人：{owner}", "en": "Owner: {owner}"},
    "cf.credit_limit": {"zh": "信用额度：{amount}", "en": "Credit limit: {amount}"},
    "cf.hint.no_phone": {"zh": "缺少电话", "en": "No phone"},
    "cf.hint.no_industry": {"zh": "未填行业", "en": "No industry"},
    "cf.hint.not_reviewed": {"zh": "已 {days} 天未复核", "en": "Not reviewed for {days} days"},
    "cf.hint.no_primary_contact": {"zh": "没有主联系人", "en": "No primary contact"},
    "cf.archive": {"zh": "归档", "en": "Archive"},
    "cf.restore": {"zh": "取消归档", "en": "Restore"},
    "cf.archived_toast": {"zh": "已归档 {code}", "en": "{code} archived"},
    "cf.restored_toast": {"zh": "已取消归档 {code}", "en": "{code} restored"},
    "cf.tab.details": {"zh": "基本资料", "en": "Details"},
    "cf.tab.contacts": {"zh": "联系人（{n}）", "en": "Contacts ({n})"},
    "cf.tab.history": {"zh": "修改历史", "en": "History"},
    "cf.save": {"zh": "保存修改", "en": "Save changes"},
    "cf.saved_toast": {"zh": "已保存 {code}", "en": "{code} saved"},
    "cf.nothing_changed": {"zh": "没有修改，未保存任何内容。", "en": "Nothing changed; nothing was saved."},
    "cf.mark_reviewed": {"zh": "标记为已复核", "en": "Mark as reviewed"},
    "cf.reviewed_toast": {"zh": "已标记 {code} 为已复核", "en": "{code} marked as reviewed"},
    "cf.last_reviewed": {"zh": "最近复核：{at}", "en": "Last reviewed: {at}"},
    "cf.contact_fields_elsewhere": {"zh": "联系人在“联系人”标签页中维护。",
                                    "en": "Contacts are kept in the Contacts tab."},
    "cf.read_only": {"zh": "您只能查看此客户。", "en": "You can only view this customer."},
    "cf.archived_read_only": {"zh": "已归档的客户不能修改，请先取消归档。",
                              "en": "An archived customer cannot be changed; restore it first."},
    "cf.hist.count": {"zh": "第 {first}–{last} 条，共 {total} 条", "en": "{first}–{last} of {total}"},
    "cf.hist.empty": {"zh": "暂无修改记录。", "en": "No changes recorded."},
    "cf.hist.entry": {"zh": "{when} · {who} · {what}", "en": "{when} · {who} · {what}"},
    "cf.hist.action.create": {"zh": "创建", "en": "created"},
    "cf.hist.action.update": {"zh": "修改", "en": "changed"},
    "cf.hist.action.delete": {"zh": "删除", "en": "removed"},
    "cf.hist.action.archive": {"zh": "归档", "en": "archived"},
    "cf.hist.action.restore": {"zh": "取消归档", "en": "restored"},
    "cf.hist.action.review": {"zh": "复核", "en": "reviewed"},
    "cf.hist.entity.customer": {"zh": "客户", "en": "customer"},
    "cf.hist.entity.contact": {"zh": "联系人", "en": "contact"},
    "cf.hist.field": {"zh": "字段", "en": "Field"},
    "cf.hist.from": {"zh": "原值", "en": "From"},
    "cf.hist.to": {"zh": "新值", "en": "To"},
    "cf.hist.restore": {"zh": "恢复到此版本", "en": "Restore this version"},
    "cf.hist.restored_toast": {"zh": "已恢复 {code} 的较早版本", "en": "An earlier version of {code} restored"},
    "cf.hist.prev": {"zh": "较新", "en": "Newer"},
    "cf.hist.next": {"zh": "较早", "en": "Older"},

    # -- the home page ----------------------------------------------------------------
}
