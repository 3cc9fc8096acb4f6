# Independent WinRM client for the cross-check: Debian's pywinrm (+ requests_ntlm, ntlm-auth) runs the
# command lines given as JSON on stdin against the lab server and prints one JSON result per line.
# The password comes from the environment (WINRM_PASSWORD), never from argv.
import base64
import json
import os
import sys

import winrm
from winrm.exceptions import InvalidCredentialsError

request = json.load(sys.stdin)
session = winrm.Session(
    request["url"],
    auth=(request["username"], os.environ["WINRM_PASSWORD"]),
    transport="ntlm",
    message_encryption=request.get("message_encryption", "always"),
    operation_timeout_sec=request.get("operation_timeout_sec", 20),
    read_timeout_sec=request.get("read_timeout_sec", 30),
)
for cmd in request["commands"]:
    try:
        r = session.run_cmd(cmd["command"], cmd.get("args", []))
        out = {"ok": True, "status_code": r.status_code,
               "stdout": base64.b64encode(r.std_out).decode(), "stderr": base64.b64encode(r.std_err).decode()}
    except InvalidCredentialsError as e:
        out = {"ok": False, "error": "InvalidCredentialsError", "message": str(e)}
    except Exception as e:  # noqa: BLE001 - report anything else to the test
        out = {"ok": False, "error": type(e).__name__, "message": str(e)}
    print(json.dumps(out), flush=True)
