from django.core.management.base import BaseCommand, CommandError

from occupancy.records import verify_documents


class Command(BaseCommand):
    help = (
        "Read every stored occupancy permit, revocation notice and inspection report PDF and "
        "compare it with the SHA-256 recorded when it was issued. Exits non-zero on a mismatch."
    )

    def handle(self, *args, **options):
        checked, problems = verify_documents()
        for problem in problems:
            self.stderr.write(
                f"MISMATCH {problem.kind} {problem.identifier} ({problem.path}): {problem.problem}"
            )
        if problems:
            raise CommandError(f"{len(problems)} of {checked} documents failed verification.")
        self.stdout.write(self.style.SUCCESS(f"All {checked} documents verified."))
