"""`marketdesk demo`: build the demo company (skipped when the database already has users)."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from marketdesk.core.demo import demo_steps


class Command(BaseCommand):
    help = "Build the demo company with realistic Chinese data and print the log-ins."

    def add_arguments(self, parser):
        parser.add_argument(
            "--if-empty", action="store_true", help="Do nothing when users already exist."
        )

    def handle(self, *args, if_empty=False, **options):
        if if_empty and get_user_model().objects.exists():
            self.stdout.write("Demo data already present; nothing to do.")
            self._print_logins()
            return
        with transaction.atomic():
            for step in demo_steps():
                message = step.run()
                self.stdout.write(f"demo: {step.name}: {message or 'ok'}")
        self._print_logins()

    def _print_logins(self):
        for step in demo_steps():
            logins = step.logins() if step.logins else []
            if not logins:
                continue
            self.stdout.write(
                self.style.SUCCESS(f"\nDemo log-ins (password for all: {step.password}):")
            )
            for username, name, role in logins:
                self.stdout.write(f"  {username:<12} {name:<6} {role}")
