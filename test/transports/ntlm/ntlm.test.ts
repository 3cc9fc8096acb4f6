// NTLM crypto and messages, checked byte for byte against MS-NLMP section 4.2.4 (NTLMv2 with key
// exchange): User "User", domain "Domain", password "Password", server challenge 0123456789abcdef,
// client challenge aa..aa, time 0, random session key 55..55.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { md4 } from '../../../src/transports/ntlm/md4.ts';
import { rc4, Rc4 } from '../../../src/transports/ntlm/rc4.ts';
import { computeNtlmv2Response, deriveKeys, ntHash, ntowfv2 } from '../../../src/transports/ntlm/crypto.ts';
import { decodeAuthenticate, decodeChallenge } from '../../../src/transports/ntlm/messages.ts';
import { NtlmSession, NtlmSignatureError, parseAccount } from '../../../src/transports/ntlm/index.ts';
import { NtlmAuthError, NtlmServer } from '../../lab/ntlm-server.ts';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

const SERVER_CHALLENGE = hex('0123456789abcdef');
const CLIENT_CHALLENGE = hex('aaaaaaaaaaaaaaaa');
const RANDOM_SESSION_KEY = Buffer.alloc(16, 0x55);
const TIME_ZERO = Buffer.alloc(8);

// MS-NLMP 4.2.4.3: the CHALLENGE_MESSAGE of the example.
const SPEC_CHALLENGE = hex(`
  4e544c4d53535000 02000000 0c000c00 38000000 33828ae2 0123456789abcdef 0000000000000000
  24002400 44000000 060070170000000f 530065007200760065007200
  02000c0044006f006d00610069006e00 01000c005300650072007600650072000000 0000`);
// MS-NLMP 4.2.4.3: the AUTHENTICATE_MESSAGE of the example (no MIC: the challenge has no timestamp).
const SPEC_AUTHENTICATE = hex(`
  4e544c4d5353500003000000180018006c00000054005400840000000c000c00
  480000000800080054000000100010005c00000010001000d8000000358288e2
  0501280a0000000f44006f006d00610069006e00550073006500720043004f00
  4d005000550054004500520086c35097ac9cec102554764a57cccc19aaaaaaaa
  aaaaaaaa68cd0ab851e51c96aabc927bebef6a1c010100000000000000000000
  00000000aaaaaaaaaaaaaaaa0000000002000c0044006f006d00610069006e00
  01000c005300650072007600650072000000000000000000c5dad2544fc97990
  94ce1ce90bc9d03e`);
const SPEC_TARGET_INFO = hex('02000c0044006f006d00610069006e00 01000c00 530065007200760065007200 00000000');

test('MD4 matches RFC 1320 and the NT hash of MS-NLMP 4.2.2.1.2', () => {
  assert.equal(md4(Buffer.alloc(0)).toString('hex'), '31d6cfe0d16ae931b73c59d7e0c089c0');
  assert.equal(md4(Buffer.from('abc')).toString('hex'), 'a448017aaf21d8525fc10ae87aa6729d');
  assert.equal(md4(Buffer.from('message digest')).toString('hex'), 'd9130a8164549fe818874806e1c7014b');
  assert.equal(
    md4(Buffer.from('12345678901234567890123456789012345678901234567890123456789012345678901234567890')).toString('hex'),
    'e33b4ddc9c38f2199c3e7b164fcc0536',
  );
  assert.equal(ntHash('Password').toString('hex'), 'a4f49c406510bdcab6824ee7c30fd852');
});

test('RC4 matches the classic known answer and streams across calls', () => {
  assert.equal(rc4(Buffer.from('Key'), Buffer.from('Plaintext')).toString('hex'), 'bbf316e8d940af0ad3');
  const s = new Rc4(Buffer.from('Key'));
  assert.equal(Buffer.concat([s.update(Buffer.from('Plain')), s.update(Buffer.from('text'))]).toString('hex'), 'bbf316e8d940af0ad3');
});

test('NTLMv2 responses and keys (4.2.4.1, 4.2.4.2)', () => {
  const key = ntowfv2(ntHash('Password'), 'User', 'Domain');
  assert.equal(key.toString('hex'), '0c868a403bfd7a93a3001ef22ef02e3f');
  const r = computeNtlmv2Response(key, SERVER_CHALLENGE, CLIENT_CHALLENGE, TIME_ZERO, SPEC_TARGET_INFO);
  assert.equal(r.sessionBaseKey.toString('hex'), '8de40ccadbc14a82f15cb0ad0de95ca3');
  assert.equal(r.lmChallengeResponse.toString('hex'), '86c35097ac9cec102554764a57cccc19aaaaaaaaaaaaaaaa');
  assert.equal(r.ntChallengeResponse.subarray(0, 16).toString('hex'), '68cd0ab851e51c96aabc927bebef6a1c');
  assert.equal(
    r.ntChallengeResponse.subarray(16).toString('hex'),
    '01010000000000000000000000000000aaaaaaaaaaaaaaaa00000000' + SPEC_TARGET_INFO.toString('hex') + '00000000',
  );
  assert.equal(rc4(r.sessionBaseKey, RANDOM_SESSION_KEY).toString('hex'), 'c5dad2544fc9799094ce1ce90bc9d03e');
});

test('the client builds the AUTHENTICATE_MESSAGE of 4.2.4.3 byte for byte', () => {
  const client = new NtlmSession({
    clientChallenge: CLIENT_CHALLENGE,
    exportedSessionKey: RANDOM_SESSION_KEY,
    timestamp: TIME_ZERO,
    version: hex('0501280a0000000f'),
  });
  client.createNegotiate();
  const auth = client.processChallenge(SPEC_CHALLENGE, { username: 'Domain\\User', password: 'Password', workstation: 'COMPUTER' });
  assert.equal(auth.toString('hex'), SPEC_AUTHENTICATE.toString('hex'));
  assert.equal(client.sessionKey.toString('hex'), RANDOM_SESSION_KEY.toString('hex'));
});

test('sealing keys and GSS_WrapEx output of 4.2.4.4', () => {
  const keys = deriveKeys(RANDOM_SESSION_KEY, decodeChallenge(SPEC_CHALLENGE).flags, 'client');
  assert.equal(keys.sealKey.toString('hex'), '59f600973cc4960a25480a7c196e4c58');
  assert.equal(keys.signKey.toString('hex'), '4788dc861b4782f35d43fd98fe1a2d39');

  const client = new NtlmSession({ clientChallenge: CLIENT_CHALLENGE, exportedSessionKey: RANDOM_SESSION_KEY, timestamp: TIME_ZERO });
  client.createNegotiate();
  client.processChallenge(SPEC_CHALLENGE, { username: 'User', domain: 'Domain', password: 'Password' });
  const sealed = client.seal(Buffer.from('Plaintext', 'utf16le'));
  assert.equal(sealed.data.toString('hex'), '54e50165bf1936dc996020c1811b0f06fb5f');
  assert.equal(sealed.signature.toString('hex'), '010000007fb38ec5c55d497600000000');
});

test('the server accepts the 4.2.4.3 AUTHENTICATE and derives the same session key', () => {
  const server = new NtlmServer({ computerName: 'Server', domainName: 'Domain', serverChallenge: SERVER_CHALLENGE });
  server.processNegotiate(new NtlmSession().createNegotiate());
  const who = server.processAuthenticate(SPEC_AUTHENTICATE, (user, domain) =>
    user === 'User' && domain === 'Domain' ? ntHash('Password') : undefined);
  assert.deepEqual(who, { user: 'User', domain: 'Domain', workstation: 'COMPUTER' });
  assert.equal(server.sessionKey.toString('hex'), RANDOM_SESSION_KEY.toString('hex'));
  assert.equal(
    server.unseal(hex('54e50165bf1936dc996020c1811b0f06fb5f'), hex('010000007fb38ec5c55d497600000000')).toString('utf16le'),
    'Plaintext',
  );
});

function handshake(username: string, password: string, serverPassword = password): { client: NtlmSession; server: NtlmServer; auth: Buffer } {
  const client = new NtlmSession();
  const server = new NtlmServer({ computerName: 'GUEST01', domainName: 'CORP' });
  const challenge = server.processNegotiate(client.createNegotiate());
  const auth = client.processChallenge(challenge, { username, password });
  server.processAuthenticate(auth, () => ntHash(serverPassword));
  return { client, server, auth };
}

test('client and server agree with a MIC, and seal/sign in both directions with sequence numbers', () => {
  const { client, server, auth } = handshake('CORP\\alice', 'S3cret!');
  const parsed = decodeAuthenticate(auth);
  assert.ok(parsed.mic && !parsed.mic.equals(Buffer.alloc(16)), 'a MIC is sent when the server sends a timestamp');
  assert.ok(parsed.lmChallengeResponse.equals(Buffer.alloc(24)));
  assert.ok(client.sessionKey.equals(server.sessionKey));
  for (let i = 0; i < 3; i++) {
    const msg = Buffer.from(`message ${i} from the client`);
    const s = client.seal(msg);
    assert.ok(!s.data.equals(msg));
    assert.equal(s.signature.readUInt32LE(12), i);
    assert.ok(server.unseal(s.data, s.signature).equals(msg));
    const back = server.seal(Buffer.from(`reply ${i}`));
    assert.equal(client.unseal(back.data, back.signature).toString(), `reply ${i}`);
  }
  const mic = client.sign(Buffer.from('mechList'));
  assert.ok(server.verify(Buffer.from('mechList'), mic));
  const mic2 = client.sign(Buffer.from('other'));
  assert.equal(server.verify(Buffer.from('tampered'), mic2), false);
});

test('a tampered sealed message is refused', () => {
  const { client, server } = handshake('CORP\\alice', 'pw');
  const s = client.seal(Buffer.from('hello world'));
  s.data[0]! ^= 1;
  assert.throws(() => server.unseal(s.data, s.signature), NtlmSignatureError);
});

test('a wrong password and a tampered MIC are refused without naming the password', () => {
  assert.throws(() => handshake('CORP\\alice', 'wrong-pass', 'right-pass'), (e: unknown) =>
    e instanceof NtlmAuthError && !String(e.message).includes('wrong-pass') && !String(e.message).includes('right-pass'));

  const client = new NtlmSession();
  const server = new NtlmServer({ computerName: 'GUEST01', domainName: 'CORP' });
  const auth = client.processChallenge(server.processNegotiate(client.createNegotiate()), { username: 'CORP\\bob', password: 'pw' });
  auth[80]! ^= 0xff; // inside the MIC
  assert.throws(() => server.processAuthenticate(auth, () => ntHash('pw')), /MIC/);
});

test('account forms: domain, local and UPN', () => {
  assert.deepEqual(parseAccount('CORP\\alice'), { user: 'alice', domain: 'CORP' });
  assert.deepEqual(parseAccount('.\\Administrator'), { user: 'Administrator', domain: undefined });
  assert.deepEqual(parseAccount('alice@corp.example.com'), { user: 'alice@corp.example.com', domain: '' });
  assert.deepEqual(parseAccount('alice', 'CORP'), { user: 'alice', domain: 'CORP' });

  // .\user authenticates against the target's own computer name; UPN with an empty domain.
  const seen: string[] = [];
  for (const username of ['.\\admin', 'admin@corp.example.com']) {
    const client = new NtlmSession();
    const server = new NtlmServer({ computerName: 'GUEST01', domainName: 'CORP' });
    const auth = client.processChallenge(server.processNegotiate(client.createNegotiate()), { username, password: 'pw' });
    const who = server.processAuthenticate(auth, () => ntHash('pw'));
    seen.push(`${who.domain}|${who.user}`);
  }
  assert.deepEqual(seen, ['GUEST01|admin', '|admin@corp.example.com']);
});
