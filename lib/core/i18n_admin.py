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
    "admin.create_title": {"zh": "新建用户", "en": "New user"},
    "admin.username_rules": {
        "zh": "2–40 个小写字母、数字或 . _ -，创建后不能更改。",
        "en": "2–40 lowercase letters, digits or . _ -; it cannot be changed later.",
    },
    "admin.create": {"zh": "创建用户", "en": "Create user"},
    "admin.created": {"zh": "已创建用户 {username}。", "en": "User {username} created."},
    "admin.password_once": {
        "zh": "初始密码只显示这一次，请交给该用户；首次登录时必须改为自己的密码。",
        "en": "The password is shown this once: hand it to the user, who must choose their own at the first login.",
    },
    "admin.manage_title": {"zh": "管理用户", "en": "Manage a user"},
    "admin.choose_user": {"zh": "选择用户", "en": "Choose a user"},
    "admin.state_active": {"zh": "启用", "en": "active"},
    "admin.state_inactive": {"zh": "已停用", "en": "deactivated"},
    "admin.set_role": {"zh": "更改角色", "en": "Change role"},
    "admin.role_set": {
        "zh": "{username} 的角色已改为{role}，从其下一次操作起生效。",
        "en": "{username} is now {role}, from their next action on.",
    },
    "admin.deactivate": {"zh": "停用", "en": "Deactivate"},
    "admin.deactivated": {
        "zh": "已停用 {username}，其所有登录已结束。",
        "en": "{username} is deactivated; their logins have ended everywhere.",
    },
    "admin.reactivate": {"zh": "重新启用", "en": "Reactivate"},
    "admin.reactivated": {"zh": "已重新启用 {username}。", "en": "{username} is active again."},
    "admin.reset_password": {"zh": "重置密码", "en": "Reset password"},
    "admin.reset_help": {
        "zh": "生成新的随机密码（只显示一次），结束该用户所有登录；其下次登录时必须修改。",
        "en": "Makes a new random password (shown once) and ends the user's logins; they must change it at the next login.",
    },
    "admin.password_reset": {"zh": "已重置 {username} 的密码。", "en": "The password of {username} is reset."},
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
    # -- a password an administrator set -------------------------------------------------
    "account.must_change": {
        "zh": "您的密码由管理员设置。请先在下方设置您自己的新密码，然后才能使用其他页面。",
        "en": "An administrator set your password. Choose your own below before you can use the other pages.",
    },
}
