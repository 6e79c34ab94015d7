"""Labels of the app shell: navigation, login, sidebar, account page (zh / en)."""

SHELL: dict[str, dict[str, str]] = {
    "app.title": {"zh": "客户主数据", "en": "Customer Master"},
    "nav.customers": {"zh": "客户查询", "en": "Customers"},
    "nav.new_customer": {"zh": "新建客户", "en": "New customer"},
    "nav.analytics": {"zh": "客户分析", "en": "Analytics"},
    "nav.account": {"zh": "我的账户", "en": "My account"},
    "page.no_access": {
        "zh": "您没有访问此页面的权限，或尚未登录。",
        "en": "You do not have access to this page, or you are not logged in.",
    },
}
