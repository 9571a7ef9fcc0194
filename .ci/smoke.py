"""After `seed_demo` on the embedded SQLite default: log in over real HTTP as `inspector` and
`inspector2` and check that each sees only their own municipality's applications."""

import http.cookiejar
import re
import sys
import urllib.parse
import urllib.request

base, password = sys.argv[1], sys.argv[2]


def numbers_seen_by(username: str) -> set[str]:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.open(base + "/accounts/login/").read()
    token = next(c.value for c in jar if c.name == "csrftoken")
    data = urllib.parse.urlencode(
        {"username": username, "password": password, "csrfmiddlewaretoken": token}
    ).encode()
    request = urllib.request.Request(
        base + "/accounts/login/", data=data, headers={"Referer": base + "/accounts/login/"}
    )
    opener.open(request).read()  # an inspector lands on My today (issue 17)
    html = opener.open(base + "/").read().decode()  # the applications
    return set(re.findall(r'href="/applications/([a-z0-9-]+)/', html))


example, sample = numbers_seen_by("inspector"), numbers_seen_by("inspector2")
assert example == {"town-of-example"}, example
assert sample == {"township-of-sample"}, sample
print("inspector sees only Town of Example; inspector2 sees only Township of Sample.")
