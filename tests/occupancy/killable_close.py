"""A worker process that closes a visit with a grant and stops at a chosen point to be killed:
`python killable_close.py <visit id> <actor id> <template id> <marker file> <where>`, where
<where> is `in-transaction` (the permit PDF written and its row saved, nothing committed)
or `after-commit` (committed, the files not yet given their final names). When it
reaches the point it writes the marker file and sleeps until it is killed. Used by
test_crash_files.py; the database and the media folder come from the environment."""

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.utils import timezone  # noqa: E402

import core.files  # noqa: E402
import occupancy.services  # noqa: E402
from inspections.models import Visit  # noqa: E402
from occupancy.models import OccupancyPermitTemplate  # noqa: E402
from occupancy.services import GrantDetails, visit_finish_and_close  # noqa: E402

visit_id, actor_id, template_id, marker, where = sys.argv[1:6]


def wait_to_be_killed(*args, **kwargs):
    Path(marker).write_text(where)
    time.sleep(600)
    raise SystemExit("not killed")


if where == "in-transaction":
    # Called right after the permit's row is saved, inside the close's transaction (the
    # report is rendered by a job after the commit since issue 16).
    occupancy.services.application_add_other_number = wait_to_be_killed
elif where == "after-commit":
    core.files.publish = wait_to_be_killed
else:
    raise SystemExit(f"unknown point {where}")

visit_finish_and_close(
    visit=Visit.objects.get(pk=visit_id),
    actor=get_user_model().objects.get(pk=actor_id),
    result="granted_full",
    grant=GrantDetails(
        template=OccupancyPermitTemplate.objects.get(pk=template_id),
        granted_on=timezone.localdate(),
        description="Whole building",
    ),
)
raise SystemExit("the close finished without stopping")
