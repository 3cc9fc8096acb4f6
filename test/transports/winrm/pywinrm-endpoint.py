# A minimal WinRM endpoint assembled from pywinrm's and ntlm-auth's own code, so that our *client* is
# checked by an independent implementation: the NTLMv2 proof and MIC are verified with ntlm-auth's
# hash functions, replies are sealed and requests unsealed with ntlm-auth's SessionSecurity (server
# side), and the HTTP-SPNEGO framing is pywinrm's encryption.py. The WS-Man replies are canned.
#
# Prints "PORT <n>" once listening, then one JSON line per handled request. Password: WINRM_PASSWORD.
import base64
import hashlib
import hmac
import json
import os
import struct
import sys
import time
import uuid
import xml.etree.ElementTree as ET
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from ntlm_auth.compute_hash import _ntowfv2
from ntlm_auth.rc4 import ARC4
from ntlm_auth.session_security import SessionSecurity
from winrm.encryption import Encryption

USER = "labadmin"
PASSWORD = os.environ["WINRM_PASSWORD"]
COMPUTER = "PYWINRM"
ENCRYPTED_CT = 'multipart/encrypted;protocol="application/HTTP-SPNEGO-session-encrypted";boundary="Encrypted Boundary"'
NS = {
    "s": "http://www.w3.org/2003/05/soap-envelope",
    "a": "http://schemas.xmlsoap.org/ws/2004/08/addressing",
    "w": "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd",
    "rsp": "http://schemas.microsoft.com/wbem/wsman/1/windows/shell",
}
SHELL_URI = NS["rsp"]
FLAGS = (0x00000001 | 0x00000004 | 0x00000010 | 0x00000020 | 0x00000200 | 0x00008000 | 0x00020000
         | 0x00080000 | 0x00800000 | 0x02000000 | 0x20000000 | 0x40000000 | 0x80000000)
KEY_EXCH = 0x40000000


def emit(event):
    print(json.dumps(event), flush=True)


def av_pairs(pairs):
    out = b""
    for av_id, value in pairs:
        out += struct.pack("<HH", av_id, len(value)) + value
    return out + struct.pack("<HH", 0, 0)


def parse_av_pairs(data):
    pairs, pos = {}, 0
    while pos + 4 <= len(data):
        av_id, length = struct.unpack("<HH", data[pos:pos + 4])
        if av_id == 0:
            break
        pairs[av_id] = data[pos + 4:pos + 4 + length]
        pos += 4 + length
    return pairs


class _Auth:
    session_security = None


class _Session:
    def __init__(self):
        self.auth = _Auth()


class _Body:
    def __init__(self, content):
        self.content = content


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in separate writes

    def log_message(self, *args):
        pass

    def reply(self, status, body=b"", headers=()):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        auth = self.headers.get("Authorization")
        if auth:
            scheme, token = auth.split(" ", 1)
            msg = base64.b64decode(token)
            kind = struct.unpack("<I", msg[8:12])[0]
            if kind == 1:
                self.negotiate_msg = msg
                self.server_challenge = os.urandom(8)
                target = COMPUTER.encode("utf-16-le")
                info = av_pairs([(2, target), (1, target), (4, b"p\x00y\x00"), (3, target),
                                 (7, struct.pack("<Q", int((time.time() + 11644473600) * 10000000)))])
                self.challenge_msg = (b"NTLMSSP\x00" + struct.pack("<I", 2) + struct.pack("<HHI", len(target), len(target), 56)
                                      + struct.pack("<I", FLAGS) + self.server_challenge + b"\x00" * 8
                                      + struct.pack("<HHI", len(info), len(info), 56 + len(target))
                                      + bytes.fromhex("0a00614a0000000f") + target + info)
                self.reply(401, headers=[("WWW-Authenticate", "%s %s" % (scheme, base64.b64encode(self.challenge_msg).decode()))])
                return
            if not self.accept_authenticate(msg):
                emit({"event": "auth-failed"})
                self.reply(401, headers=[("WWW-Authenticate", "Negotiate")])
                return
            emit({"event": "authenticated", "user": self.user, "domain": self.domain})
        if getattr(self, "encryption", None) is None:
            self.reply(401, headers=[("WWW-Authenticate", "Negotiate")])
            return
        if not body:
            self.reply(200)
            return
        if "HTTP-SPNEGO-session-encrypted" not in self.headers.get("Content-Type", ""):
            emit({"event": "plaintext-refused"})
            self.reply(401, headers=[("WWW-Authenticate", "Negotiate")])
            return
        soap = self.encryption._decrypt_response(_Body(body), "localhost")
        status, answer = self.handle_soap(ET.fromstring(soap))
        sealed = self.encryption._encrypt_message(answer.encode("utf-8"), "localhost") + Encryption.MIME_BOUNDARY + b"--\r\n"
        self.reply(status, sealed, [("Content-Type", ENCRYPTED_CT)])

    def accept_authenticate(self, msg):
        def field(offset):
            length, _, start = struct.unpack("<HHI", msg[offset:offset + 8])
            return msg[start:start + length]
        nt = field(20)
        domain = field(28).decode("utf-16-le")
        user = field(36).decode("utf-16-le")
        encrypted_key = field(52)
        flags = struct.unpack("<I", msg[60:64])[0]
        if user.lower() != USER or len(nt) <= 24:
            return False
        key = _ntowfv2(user, PASSWORD, domain)
        proof, temp = nt[:16], nt[16:]
        if not hmac.compare_digest(hmac.new(key, self.server_challenge + temp, hashlib.md5).digest(), proof):
            return False
        base_key = hmac.new(key, proof, hashlib.md5).digest()
        exported = ARC4(base_key).update(encrypted_key) if flags & KEY_EXCH else base_key
        if struct.unpack("<I", parse_av_pairs(temp[28:]).get(6, b"\x00\x00\x00\x00"))[0] & 2:
            zeroed = msg[:72] + b"\x00" * 16 + msg[88:]
            mic = hmac.new(exported, self.negotiate_msg + self.challenge_msg + zeroed, hashlib.md5).digest()
            if not hmac.compare_digest(mic, msg[72:88]):
                return False
        session = _Session()
        session.auth.session_security = SessionSecurity(flags, exported, source="server")
        self.encryption = Encryption(session, "ntlm")
        self.user, self.domain = user, domain
        self.stdin = b""
        return True

    def envelope(self, action, relates_to, body):
        return ('<s:Envelope xmlns:s="%s" xmlns:a="%s" xmlns:w="%s" xmlns:rsp="%s"><s:Header>'
                '<a:Action>%s</a:Action><a:MessageID>uuid:%s</a:MessageID><a:RelatesTo>%s</a:RelatesTo>'
                '</s:Header><s:Body>%s</s:Body></s:Envelope>') % (NS["s"], NS["a"], NS["w"], NS["rsp"], action, uuid.uuid4(), relates_to, body)

    def handle_soap(self, root):
        action = root.find("s:Header/a:Action", NS).text
        message_id = root.find("s:Header/a:MessageID", NS).text
        options = {o.get("Name"): o.text for o in root.findall("s:Header/w:OptionSet/w:Option", NS)}
        emit({"event": "soap", "action": action.rsplit("/", 1)[-1], "options": options})
        if action.endswith("transfer/Create"):
            body = ('<rsp:Shell><rsp:ShellId>PY-SHELL-1</rsp:ShellId></rsp:Shell>'
                    '<w:SelectorSet><w:Selector Name="ShellId">PY-SHELL-1</w:Selector></w:SelectorSet>')
        elif action.endswith("/Command"):
            line = root.find("s:Body/rsp:CommandLine", NS)
            self.command_line = line.find("rsp:Command", NS).text
            self.command_id = line.get("CommandId") or str(uuid.uuid4()).upper()
            self.receives = 0
            body = "<rsp:CommandResponse><rsp:CommandId>%s</rsp:CommandId></rsp:CommandResponse>" % self.command_id
        elif action.endswith("/Send"):
            stream = root.find("s:Body/rsp:Send/rsp:Stream", NS)
            self.stdin += base64.b64decode(stream.text or "")
            body = "<rsp:SendResponse/>"
        elif action.endswith("/Receive"):
            self.receives += 1
            if self.receives == 1:
                # What Windows answers a Receive with no output within OperationTimeout.
                return 500, self.envelope("http://schemas.dmtf.org/wbem/wsman/1/wsman/fault", message_id, (
                    '<s:Fault><s:Code><s:Value>s:Receiver</s:Value><s:Subcode><s:Value>w:TimedOut</s:Value></s:Subcode></s:Code>'
                    '<s:Reason><s:Text xml:lang="en-US">The WS-Management service cannot complete the operation within the time specified in OperationTimeout.  </s:Text></s:Reason>'
                    '<s:Detail><f:WSManFault xmlns:f="http://schemas.microsoft.com/wbem/wsman/1/wsmanfault" Code="2150858793" Machine="PYWINRM">'
                    '<f:Message>The WS-Management service cannot complete the operation within the time specified in OperationTimeout.  </f:Message></f:WSManFault></s:Detail></s:Fault>'))
            report = json.dumps({"command": self.command_line, "stdin": self.stdin.decode("utf-8"), "user": self.user, "domain": self.domain})
            body = ('<rsp:ReceiveResponse><rsp:Stream Name="stdout" CommandId="%s">%s</rsp:Stream>'
                    '<rsp:Stream Name="stderr" CommandId="%s">%s</rsp:Stream>'
                    '<rsp:CommandState CommandId="%s" State="%s/CommandState/Done"><rsp:ExitCode>42</rsp:ExitCode></rsp:CommandState>'
                    '</rsp:ReceiveResponse>') % (self.command_id, base64.b64encode(report.encode("utf-8")).decode(), self.command_id,
                                                 base64.b64encode("py-stderr ✓".encode("utf-8")).decode(), self.command_id, SHELL_URI)
            self.stdin = b""
        else:
            body = ""
        return 200, self.envelope(action + "Response", message_id, body)


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
print("PORT %d" % server.server_address[1], flush=True)
try:
    server.serve_forever()
except KeyboardInterrupt:
    pass
