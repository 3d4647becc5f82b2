"""Account administration under 三权分立: the system administrator keeps the accounts, the
security administrator their roles and areas; every change is audited."""
