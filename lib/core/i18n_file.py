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
    "nav.home": {"zh": "今日工作", "en": "Today"},
    "home.intro": {"zh": "今天要做的事：到期跟进、客户需求、定期复核和最近的变更。",
                   "en": "What to do today: follow-ups due, customer needs, reviews and recent changes."},
    "home.find_customers": {"zh": "查找客户", "en": "Find customers"},
    "home.metric_due": {"zh": "待办跟进", "en": "Follow-ups due"},
    "home.metric_due_help": {"zh": "今天到期及已逾期、尚未完成的跟进", "en": "Not done, due today or overdue"},
    "home.metric_overdue": {"zh": "其中逾期 {n}", "en": "{n} overdue"},
    "home.metric_needs": {"zh": "未结客户需求", "en": "Open customer needs"},
    "home.metric_not_reviewed": {"zh": "超过 {days} 天未复核", "en": "Not reviewed for {days} days"},
    "home.metric_recent": {"zh": "近 {days} 天有变更", "en": "Changed in the last {days} days"},
    "home.tab_due": {"zh": "待办跟进（{n}）", "en": "Follow-ups due ({n})"},
    "home.tab_needs": {"zh": "客户需求（{n}）", "en": "Customer needs ({n})"},
    "home.tab_not_reviewed": {"zh": "定期复核（{n}）", "en": "To review ({n})"},
    "home.tab_recent": {"zh": "最近变更（{n}）", "en": "Recently changed ({n})"},
    "home.only_mine": {"zh": "只看分配给我的", "en": "Only mine"},
    "home.due_everyone": {"zh": "所有人今天到期及逾期的跟进，按负责跟进人统计：",
                          "en": "Everyone's follow-ups due today or overdue, by assignee:"},
    "home.due_mine": {"zh": "分配给我、今天到期及逾期的跟进。", "en": "Assigned to me, due today or overdue."},
    "home.col_assignee": {"zh": "负责跟进人", "en": "Assignee"},
    "home.col_owner": {"zh": "客户负责人", "en": "Customer owner"},
    "home.col_total": {"zh": "合计", "en": "Total"},
    "home.col_overdue": {"zh": "逾期", "en": "Overdue"},
    "home.unassigned": {"zh": "（未指定）", "en": "(unassigned)"},
    "home.overdue_by": {"zh": "逾期 {days} 天", "en": "{days} days overdue"},
    "home.due_today": {"zh": "今天到期", "en": "Due today"},
    "home.due_line": {"zh": "截止 {date} · 负责跟进人 {assignee}", "en": "Due {date} · assignee {assignee}"},
    "home.next_action": {"zh": "下一步：{action}", "en": "Next: {action}"},
    "home.campaign": {"zh": "关怀活动：{label}", "en": "Care campaign: {label}"},
    "home.mark_done": {"zh": "完成", "en": "Done"},
    "home.mark_done_help": {"zh": "标记这条跟进为已完成", "en": "Mark this follow-up as done"},
    "home.marked_done": {"zh": "已标记完成：{summary}", "en": "Marked as done: {summary}"},
    "home.done_conflict": {
        "zh": "这条跟进已被 {by} 于 {at} 修改，未标记完成。列表已显示最新内容，请查看后重试。",
        "en": "{by} changed this follow-up at {at}; it was not marked done. The list now shows it as it is: "
              "check it and try again."},
    "home.none_due": {"zh": "没有今天到期或逾期的跟进。", "en": "Nothing due today or overdue."},
    "home.none_needs": {"zh": "没有未结的客户需求。", "en": "No open customer needs."},
    "home.needs_by_owner": {"zh": "按客户负责人统计：", "en": "By customer owner:"},
    "home.need_since": {"zh": "提出于 {date}", "en": "Raised on {date}"},
    "home.none_not_reviewed": {"zh": "所有客户都在 {days} 天内复核过。",
                               "en": "Every customer was reviewed in the last {days} days."},
    "home.reviewed_on": {"zh": "上次复核：{date}", "en": "Last reviewed: {date}"},
    "home.never_reviewed": {"zh": "从未复核", "en": "Never reviewed"},
    "home.none_recent": {"zh": "近 {days} 天没有客户变更。", "en": "No customer changed in the last {days} days."},
    "home.changed_line": {"zh": "{at} · {by} · {n} 处变更", "en": "{at} by {by} · {n} changes"},
    "list.range": {"zh": "第 {first}–{last} 条，共 {total} 条", "en": "{first}–{last} of {total}"},
    "campaign.title": {"zh": "客户关怀活动", "en": "Care campaign"},
    "campaign.reach": {
        "zh": "将为当前搜索和筛选出的 {n} 个客户各创建一条关怀跟进，分配给各客户的负责人，在一次操作中全部完成或全部不做。",
        "en": "Creates a care follow-up for each of the {n} customers of the current search and filters, assigned "
              "to each customer's owner — all of them in one go, or none."},
    "campaign.reach_none": {"zh": "当前搜索中没有可以创建关怀跟进的客户（已归档的客户不计）。",
                            "en": "The current search has no customer you may add a care follow-up to "
                                  "(archived customers are left out)."},
    "campaign.run": {"zh": "创建关怀跟进", "en": "Create care follow-ups"},
    "campaign.progress": {"zh": "已创建 {done} / {total}", "en": "{done} of {total} created"},
    "campaign.done": {"zh": "关怀活动“{label}”：已为 {n} 个客户创建跟进。",
                      "en": "Care campaign “{label}”: {n} follow-ups created."},
}
