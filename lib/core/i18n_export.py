"""Messages of the export and the import template (lib.customers.export, ui.export), in
both languages."""

EXPORT: dict[str, dict[str, str]] = {
    "error.export_format": {"zh": "不支持的导出格式：{format}（可选 csv、xlsx）。",
                            "en": "Unknown export format: {format} (csv or xlsx)."},
    "export.yes": {"zh": "是", "en": "yes"},
    "export.no": {"zh": "否", "en": "no"},
    "export.sheet_customers": {"zh": "客户", "en": "Customers"},
    "export.sheet_lists": {"zh": "可选值", "en": "Allowed values"},
    "export.sample_text": {"zh": "示例{label}", "en": "Sample {label}"},
    "export.not_in_list": {
        "zh": "请从下拉列表中选择；也可填写代码或英文名称。",
        "en": "Choose a value from the list; a code or the Chinese label is accepted too.",
    },
    "export.csv": {"zh": "导出 CSV", "en": "Export CSV"},
    "export.xlsx": {"zh": "导出 Excel", "en": "Export Excel"},
    "export.help": {
        "zh": "导出当前搜索和筛选的全部客户（不只本页），点击时生成，边生成边下载（在新标签页中开始）。",
        "en": "Exports every customer of the current search and filters (not only this page), made when clicked"
              " and downloaded as it is made (it starts in a new tab).",
    },
    "export.link_expired": {
        "zh": "下载链接已失效（链接有效期 {minutes} 分钟）。请回到客户列表页重新点击导出。",
        "en": "This download link has expired (links last {minutes} minutes). Go back to the customers page and export again.",
    },
    "export.link_login": {
        "zh": "请先在本浏览器中以导出该文件的用户登录，再回到客户列表页点击导出。",
        "en": "Log in in this browser as the user who asked for this export, then export again from the customers page.",
    },
    "export.link_back": {"zh": "返回客户列表", "en": "Back to the customers"},
    "export.own_only": {"zh": "仅导出您负责的客户。", "en": "Only the customers you own are exported."},
    "export.template": {"zh": "导入模板", "en": "Import template"},
    "export.template_help": {
        "zh": "空白导入文件（Excel）：表头、示例行，列表字段带下拉选项。",
        "en": "A blank import file (Excel): headers, a sample row and drop-downs for list fields.",
    },
    "cli.export_done": {"zh": "已导出 {rows} 个客户到 {path}。", "en": "Exported {rows} customers to {path}."},
    "cli.unknown_user": {"zh": "没有启用的用户 {username}。", "en": "No active user {username}."},
}
