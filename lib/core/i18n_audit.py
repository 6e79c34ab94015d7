"""Messages of the audit log (zh / en): the administration page's audit log section
(ui/admin_audit.py), the names of the actions and entities an entry records, the
columns of its export and the refusals of lib.accounts.audit_log."""

AUDIT_MESSAGES: dict[str, dict[str, str]] = {
    "audit.tab": {"zh": "审计日志", "en": "Audit log"},
    "audit.intro": {
        "zh": "每一次更改、导出、登录和被拒绝的访问，最新的在前。",
        "en": "Every change, export, login and refused access, newest first.",
    },
    # -- filters --------------------------------------------------------------------------
    "audit.filter_actor": {"zh": "用户", "en": "User"},
    "audit.filter_customer": {"zh": "客户编号", "en": "Customer code"},
    "audit.filter_action": {"zh": "操作", "en": "Action"},
    "audit.filter_from": {"zh": "起始日期", "en": "From"},
    "audit.filter_to": {"zh": "截止日期", "en": "To"},
    "audit.any": {"zh": "全部", "en": "Any"},
    "audit.apply": {"zh": "筛选", "en": "Filter"},
    "audit.reset": {"zh": "清除筛选", "en": "Clear filters"},
    "audit.dates_hint": {"zh": "日期按北京时间计，含首尾两天。", "en": "Dates are Beijing time, both days included."},
    # -- the list ------------------------------------------------------------------------
    "audit.count": {
        "zh": "共 {total} 条，显示第 {first}–{last} 条。",
        "en": "{total} entries, showing {first}–{last}.",
    },
    "audit.empty": {"zh": "没有符合条件的记录。", "en": "No entries match."},
    "audit.newer": {"zh": "较新", "en": "Newer"},
    "audit.older": {"zh": "较早", "en": "Older"},
    "audit.open_entry": {"zh": "查看记录的更改", "en": "Show what an entry changed"},
    "audit.entry_title": {
        "zh": "#{id} · {when} · {who} · {what}",
        "en": "#{id} · {when} · {who} · {what}",
    },
    "audit.no_changes": {"zh": "这条记录没有更多内容。", "en": "This entry records nothing more."},
    "audit.field": {"zh": "字段", "en": "Field"},
    "audit.before": {"zh": "原值", "en": "Before"},
    "audit.after": {"zh": "新值", "en": "After"},
    "audit.fact": {"zh": "项目", "en": "Item"},
    "audit.value": {"zh": "内容", "en": "Value"},
    # -- export --------------------------------------------------------------------------
    "audit.export_button": {"zh": "导出 CSV", "en": "Export CSV"},
    "audit.export_caption": {
        "zh": "导出当前筛选出的记录（最新的在前），最多 {limit} 条；更多时请缩小筛选范围。导出本身也记入审计日志。",
        "en": "Exports the filtered entries (newest first), at most {limit}; narrow the filters for more. "
              "The export itself goes into the audit log.",
    },
    "audit.export_file": {"zh": "审计日志", "en": "audit-log"},
    "audit.export_too_large": {
        "zh": "筛选出 {rows} 条记录，超过一次导出的上限 {limit} 条。请缩小筛选范围（例如日期）。",
        "en": "The filters select {rows} entries, more than one export takes ({limit}). "
              "Narrow the filters (the dates, for example).",
    },
    # -- refusals ----------------------------------------------------------------------------
    "audit.unknown_customer": {"zh": "没有编号为 {code} 的客户。", "en": "There is no customer with the code {code}."},
    "audit.bad_dates": {"zh": "截止日期早于起始日期。", "en": "The end date is before the start date."},
    # -- the export's columns (lib.accounts.audit_log.EXPORT_COLUMNS) ----------------------
    "audit.col.id": {"zh": "编号", "en": "Id"},
    "audit.col.changed_at": {"zh": "时间（北京时间）", "en": "Time (Beijing)"},
    "audit.col.actor": {"zh": "用户", "en": "User"},
    "audit.col.action": {"zh": "操作", "en": "Action"},
    "audit.col.action_code": {"zh": "操作代码", "en": "Action code"},
    "audit.col.entity": {"zh": "对象", "en": "Entity"},
    "audit.col.entity_id": {"zh": "对象编号", "en": "Entity id"},
    "audit.col.customer_code": {"zh": "客户编号", "en": "Customer code"},
    "audit.col.version": {"zh": "版本", "en": "Version"},
    "audit.col.changes": {"zh": "更改内容（JSON）", "en": "Changes (JSON)"},
    # -- actions (lib.accounts.audit_log.ACTIONS) -------------------------------------------
    "audit.action.create": {"zh": "创建", "en": "Created"},
    "audit.action.update": {"zh": "修改", "en": "Changed"},
    "audit.action.delete": {"zh": "删除", "en": "Removed"},
    "audit.action.archive": {"zh": "归档", "en": "Archived"},
    "audit.action.restore": {"zh": "恢复", "en": "Restored"},
    "audit.action.review": {"zh": "复核", "en": "Reviewed"},
    "audit.action.merge": {"zh": "合并客户", "en": "Merged customers"},
    "audit.action.import": {"zh": "导入客户", "en": "Imported customers"},
    "audit.action.export": {"zh": "导出客户", "en": "Exported customers"},
    "audit.action.backup": {"zh": "备份数据库", "en": "Backed up the database"},
    "audit.action.user.create": {"zh": "新建用户", "en": "Created a user"},
    "audit.action.user.activate": {"zh": "启用用户", "en": "Reactivated a user"},
    "audit.action.user.deactivate": {"zh": "停用用户", "en": "Deactivated a user"},
    "audit.action.user.reset_password": {"zh": "重置密码", "en": "Reset a password"},
    "audit.action.user.change_password": {"zh": "修改自己的密码", "en": "Changed own password"},
    "audit.action.user.logout": {"zh": "退出登录", "en": "Logged out"},
    "audit.action.user.lift_login_delay": {"zh": "解除登录等待", "en": "Lifted a login wait"},
    "audit.action.user.login": {"zh": "登录", "en": "Logged in"},
    "audit.action.user.login_failed": {"zh": "登录失败", "en": "Failed login"},
    "audit.action.user.login_delayed": {"zh": "登录须等待", "en": "Login wait started"},
    "audit.action.user.login_refused": {"zh": "等待期间的登录被拒", "en": "Login refused during a wait"},
    "audit.action.access.denied": {"zh": "拒绝访问", "en": "Access denied"},
    "audit.action.audit.export": {"zh": "导出审计日志", "en": "Exported the audit log"},
    # -- entities (lib.accounts.audit_log.ENTITIES) --------------------------------------------
    "audit.entity.customer": {"zh": "客户", "en": "Customer"},
    "audit.entity.contact": {"zh": "联系人", "en": "Contact"},
    "audit.entity.relationship": {"zh": "客户关系", "en": "Relationship"},
    "audit.entity.followup": {"zh": "跟进记录", "en": "Follow-up"},
    "audit.entity.file": {"zh": "文件", "en": "File"},
    "audit.entity.user": {"zh": "用户", "en": "User"},
    "audit.entity.system": {"zh": "系统", "en": "System"},
    "audit.entity.export": {"zh": "导出", "en": "Export"},
    "audit.entity.access": {"zh": "访问", "en": "Access"},
    "audit.entity.audit_log": {"zh": "审计日志", "en": "Audit log"},
}
