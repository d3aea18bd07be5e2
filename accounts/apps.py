from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"

    def ready(self) -> None:
        from django.contrib import admin

        from accounts.admin_login import ThrottledAdminLoginForm

        # The admin's login checks the same passwords as the API's: the same limits.
        admin.site.login_form = ThrottledAdminLoginForm
