"""Messages of the administration page (zh / en): its sections and their refusals."""

ADMIN: dict[str, dict[str, str]] = {
    "nav.admin": {"zh": "系统管理", "en": "Administration"},
    "admin.intro": {
        "zh": "用户与角色等系统设置。每项更改都记入审计日志。",
        "en": "Users and roles, and the other settings of the system. Every change goes into the audit log.",
    },
    # -- users --------------------------------------------------------------------------
    "admin.tab_users": {"zh": "用户", "en": "Users"},
    "admin.users_caption": {
        "zh": "共 {n} 个用户，其中 {active} 个启用。",
        "en": "{n} users, {active} of them active.",
    },
    "admin.col_username": {"zh": "用户名", "en": "Username"},
    "admin.col_display_name": {"zh": "姓名", "en": "Name"},
    "admin.col_email": {"zh": "邮箱", "en": "E-mail"},
    "admin.col_role": {"zh": "角色", "en": "Role"},
    "admin.col_active": {"zh": "启用", "en": "Active"},
    "admin.col_demo": {"zh": "演示账号", "en": "Demo account"},
    "admin.delays_title": {"zh": "登录等待", "en": "Login waits"},
    "admin.delays_none": {"zh": "目前没有用户需要等待才能登录。", "en": "Nobody has to wait before logging in."},
    "admin.delay_line": {
        "zh": "**{username}**：{failures} 次失败登录{where}，需等到 {until}。",
        "en": "**{username}**: {failures} failed logins{where}, waits until {until}.",
    },
    "admin.delay_known_browser": {"zh": "（在其常用浏览器上）", "en": " (from a browser they use)"},
    "admin.delay_other_browsers": {"zh": "（来自其他浏览器）", "en": " (from other browsers)"},
    "admin.lift": {"zh": "解除等待", "en": "Lift the wait"},
    "admin.lifted": {"zh": "已解除 {username} 的登录等待。", "en": "The login wait of {username} is lifted."},
}
