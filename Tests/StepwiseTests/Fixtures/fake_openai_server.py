#!/usr/bin/env python3
"""A small OpenAI-compatible server for Stepwise's HTTP-teacher tests (raw asyncio, HTTP/1.1
keep-alive; no http.server, which stalls ~47 ms per request).

    python3 fake_openai_server.py [--latency-ms N] [--require-key KEY] [--hang-seconds S]
                                  [--chunked] [--close] [--close-delimited] [--idle-timeout S]
                                  [--no-logprobs] [--tls-dir DIR] [--generations FILE]

Listens on 127.0.0.1 on an ephemeral port and prints "PORT <n>" on stdout once ready.
With --tls-dir DIR it speaks HTTPS with a self-signed certificate for 127.0.0.1 and localhost
that it makes (Python's `cryptography`) and writes to DIR/cert.pem (the file a client trusts)
and DIR/key.pem; it prints "NO-TLS <why>" and exits when it cannot.

Endpoints: POST /v1/chat/completions, POST /v1/completions, GET /stats, POST /reset.
The completion text is deterministic in the prompt:
    "I read <n> characters. The answer is ( <n> + 1 )."      (n = len(prompt) in code points)

Generation: with --generations FILE, a prompt containing the marker [[generate]] is answered
with FILE's text (every such prompt alike), so a test decides exactly which examples a
"teacher" writes — duplicates of dataset inputs included.

Faults are requested by markers in the prompt, each for the first K attempts of that prompt
(attempts are counted per exact prompt text):
    [[429xK]]      429 with "Retry-After: 1"
    [[500xK]]      500 with a JSON error body
    [[hangxK]]     no answer for --hang-seconds (default 5), then the connection is closed
    [[badjsonxK]]  200 with a truncated JSON body
    [[dropxK]]     the connection is closed without any response
    [[400]]        always 400 (a permanent error)

Options for exercising clients: --chunked sends every body with chunked transfer coding;
--close answers every request with "Connection: close" and closes; --close-delimited sends
bodies without Content-Length or chunking, ended by closing the connection; --idle-timeout S
closes a keep-alive connection that has been idle for S seconds (as uvicorn does after 5 s).

Log-probabilities: a request with "logprobs" gets them (chat: choices[0].logprobs.content,
"top_logprobs" alternatives each; completions: tokens / token_logprobs / top_logprobs, with
"logprobs": k alternatives), deterministic in the completion's words: token i ("I", " read", …)
has log-probability -0.25·(i+1)/(len+1), its j-th alternative -(j+1) (the first alternative is
the token itself). --no-logprobs ignores the request's "logprobs", as a server without them does.

GET /stats returns {"requests": total completion requests, "by_path": {...},
"faults": {...}, "max_in_flight": n, "in_flight": n, "connections": accepted connections,
"answered": successful completion responses written, "answered_again": of those, how many
answered a prompt that had been answered before}; /stats and /reset are not counted.

Built on asyncio.Protocol callbacks rather than streams and a coroutine per request: on a
2-core machine the benchmark's client and this server share the CPU, and the stream version
spent twice the CPU per request, which showed up as the benchmark's ceiling.
"""
import argparse
import asyncio
import json
import re
import signal
import socket
import sys

FAULT = re.compile(r'\[\[(429|500|hang|badjson|drop)x(\d+)\]\]')
MAX_HEAD = 64 * 1024


class State:
    def __init__(self):
        self.reset()

    def reset(self):
        self.requests = 0
        self.by_path = {}
        self.faults = {}
        self.attempts = {}
        self.in_flight = 0
        self.max_in_flight = 0
        self.auth_failures = 0
        self.connections = 0
        self.answered = 0
        self.answered_again = 0
        self.answered_prompts = set()


def response(args, status, reason, body, extra_headers=(), admin=False):
    """One response's bytes, framed as the options say; `admin` (/stats, /reset) answers are
    framed by Content-Length whatever the options (the tests read them with URLSession, which
    on Linux takes neither close-delimited bodies nor trailers)."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    head = [f'HTTP/1.1 {status} {reason}', 'Content-Type: application/json']
    if args.close_delimited and not admin:
        head.append('Connection: close')
        head.extend(extra_headers)
        return ('\r\n'.join(head) + '\r\n\r\n').encode() + data
    if args.chunked and not admin:
        # Three chunks (one with an extension) and a trailer: every part of the framing is used.
        a, b = len(data) // 3, 2 * len(data) // 3
        parts = [data[:a], data[a:b], data[b:]]
        head.append('Transfer-Encoding: chunked')
        payload = b''.join(b'%x;part=%d\r\n%s\r\n' % (len(p), i, p) for i, p in enumerate(parts) if p)
        payload += b'0\r\nX-Trailer: done\r\n\r\n'
    else:
        head.append(f'Content-Length: {len(data)}')
        payload = data
    if args.close or args.close_delimited:
        head.append('Connection: close')
    head.extend(extra_headers)
    return ('\r\n'.join(head) + '\r\n\r\n').encode() + payload


def completion_text(prompt):
    n = len(prompt)
    return f'I read {n} characters. The answer is ( {n} + 1 ).'


def text_tokens(text):
    """The completion's tokens: words with the space before them ("I", " read", …)."""
    words = text.split(' ')
    return [words[0]] + [' ' + w for w in words[1:]]


def token_logprobs(text, k):
    """(token, logprob, [(alternative, logprob)] * k) per token; see the module doc."""
    tokens = text_tokens(text)
    out = []
    for i, t in enumerate(tokens):
        lp = -0.25 * (i + 1) / (len(tokens) + 1)
        alternatives = [(t if j == 0 else f'{t}~{j}', lp if j == 0 else -(j + 1.0)) for j in range(k)]
        out.append((t, lp, alternatives))
    return out


class Connection(asyncio.Protocol):
    """One client connection: requests are answered one at a time, in order."""

    def __init__(self, state, args):
        self.state = state
        self.args = args
        self.loop = asyncio.get_running_loop()
        self.transport = None
        self.buffer = bytearray()
        self.busy = False
        self.closed = False
        self.idle_timer = None

    # asyncio callbacks

    def connection_made(self, transport):
        self.transport = transport
        self.state.connections += 1
        sock = transport.get_extra_info('socket')
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.arm_idle_timer()

    def data_received(self, data):
        self.buffer += data
        if not self.busy:
            self.next_request()

    def connection_lost(self, exc):
        self.closed = True
        if self.idle_timer:
            self.idle_timer.cancel()

    # requests

    def arm_idle_timer(self):
        if self.args.idle_timeout:
            self.idle_timer = self.loop.call_later(self.args.idle_timeout, self.close)

    def close(self):
        if not self.closed:
            self.closed = True
            self.transport.close()

    def next_request(self):
        end = self.buffer.find(b'\r\n\r\n')
        if end < 0:
            if len(self.buffer) > MAX_HEAD:
                self.close()
            return
        try:
            lines = self.buffer[:end].decode('latin-1').split('\r\n')
            method, path, _ = lines[0].split(' ', 2)
            headers = {}
            for line in lines[1:]:
                k, _, v = line.partition(':')
                headers[k.strip().lower()] = v.strip()
            n = int(headers.get('content-length', '0') or 0)
        except ValueError:
            self.close()
            return
        if len(self.buffer) < end + 4 + n:
            return   # the body is still on its way
        body = bytes(self.buffer[end + 4:end + 4 + n])
        del self.buffer[:end + 4 + n]
        self.busy = True
        if self.idle_timer:
            self.idle_timer.cancel()
            self.idle_timer = None
        self.dispatch(method, path, headers, body)

    def done(self, data, keep=True):
        """Sends one response (if any); then the next request, or the connection is closed."""
        if self.closed:
            return
        if data:
            self.transport.write(data)
        if not keep or self.args.close or self.args.close_delimited:
            self.close()
            return
        self.busy = False
        self.arm_idle_timer()
        if self.buffer:
            self.next_request()

    def dispatch(self, method, path, headers, body):
        state, args = self.state, self.args
        if path == '/stats':
            stats = {'requests': state.requests, 'by_path': state.by_path, 'faults': state.faults,
                     'max_in_flight': state.max_in_flight, 'in_flight': state.in_flight,
                     'auth_failures': state.auth_failures, 'connections': state.connections,
                     'answered': state.answered, 'answered_again': state.answered_again}
            self.done(response(args, 200, 'OK', stats, admin=True))
            return
        if path == '/reset':
            state.reset()
            self.done(response(args, 200, 'OK', {'ok': True}, admin=True))
            return
        if method != 'POST' or path not in ('/v1/chat/completions', '/v1/completions'):
            self.done(response(args, 404, 'Not Found', {'error': {'message': 'no such endpoint'}}))
            return
        state.requests += 1
        state.by_path[path] = state.by_path.get(path, 0) + 1
        state.in_flight += 1
        state.max_in_flight = max(state.max_in_flight, state.in_flight)
        # The answer (bytes, or a fault) is prepared on arrival and only sent after the latency:
        # then the simulated latency is the whole latency, and a burst of requests that come due
        # together costs the server a write each, not a JSON parse and encode each in sequence.
        send = self.answer(path, headers, body)
        if args.latency_ms:
            self.loop.call_later(args.latency_ms / 1000, send)
        else:
            send()

    def finish(self, data, keep=True):
        self.state.in_flight -= 1
        self.done(data, keep)

    def answer(self, path, headers, body):
        """Decides the answer to one completion request now; returns what sends it."""
        reply = self.prepare_answer(path, headers, body)
        if reply == 'hang':
            return lambda: self.loop.call_later(self.args.hang_seconds, self.finish, None, False)
        if isinstance(reply, Answer):
            return lambda: self.finish_answer(reply)
        data, keep = reply
        return lambda: self.finish(data, keep)

    def finish_answer(self, answer):
        """Sends a successful completion, counting it (and whether its prompt had one before)."""
        state = self.state
        if not self.closed:
            state.answered += 1
            if answer.prompt in state.answered_prompts:
                state.answered_again += 1
            state.answered_prompts.add(answer.prompt)
        self.finish(answer.data, True)

    def prepare_answer(self, path, headers, body):
        """(response bytes or None, keep the connection) — or 'hang'."""
        state, args = self.state, self.args
        if args.require_key and headers.get('authorization') != f'Bearer {args.require_key}':
            state.auth_failures += 1
            return response(args, 401, 'Unauthorized', {'error': {'message': 'bad key'}}), True
        try:
            req = json.loads(body)
            if path.endswith('/chat/completions'):
                prompt = req['messages'][-1]['content']
            else:
                prompt = req['prompt']
            model = req['model']
        except (ValueError, KeyError, TypeError, IndexError):
            return response(args, 400, 'Bad Request', {'error': {'message': 'bad request body'}}), True
        if '[[' in prompt:
            if '[[400]]' in prompt:
                state.faults['400'] = state.faults.get('400', 0) + 1
                return response(args, 400, 'Bad Request', {'error': {'message': 'permanent failure'}}), True
            attempt = state.attempts.get(prompt, 0)
            state.attempts[prompt] = attempt + 1
            for kind, count in FAULT.findall(prompt):
                if attempt < int(count):
                    state.faults[kind] = state.faults.get(kind, 0) + 1
                    if kind == '429':
                        return response(args, 429, 'Too Many Requests', {'error': {'message': 'slow down'}},
                                        ['Retry-After: 1']), True
                    if kind == '500':
                        return response(args, 500, 'Internal Server Error', {'error': {'message': 'oops'}}), True
                    if kind == 'hang':
                        return 'hang'
                    if kind == 'badjson':
                        return response(args, 200, 'OK', b'{"choices": [{"message": {"content": "trunc'), True
                    return None, False   # drop
        text = completion_text(prompt)
        if args.generations and '[[generate]]' in prompt:
            with open(args.generations, encoding='utf-8') as f:
                text = f.read()
        n = len(prompt)
        usage = {'prompt_tokens': n // 4 + 1, 'completion_tokens': len(text) // 4 + 1,
                 'total_tokens': n // 4 + 1 + len(text) // 4 + 1}
        chat = path.endswith('/chat/completions')
        if chat:
            choice = {'index': 0, 'message': {'role': 'assistant', 'content': text}, 'finish_reason': 'stop'}
            obj = 'chat.completion'
        else:
            choice = {'index': 0, 'text': text, 'finish_reason': 'stop'}
            obj = 'text_completion'
        asked = req.get('logprobs')
        if asked not in (None, False) and not args.no_logprobs:
            if chat:
                k = int(req.get('top_logprobs') or 0)
                choice['logprobs'] = {'content': [
                    {'token': t, 'logprob': lp, 'top_logprobs': [{'token': a, 'logprob': alp} for a, alp in alts]}
                    for t, lp, alts in token_logprobs(text, k)]}
            else:
                k = int(asked)
                entries = token_logprobs(text, k)
                choice['logprobs'] = {'tokens': [t for t, _, _ in entries], 'token_logprobs': [lp for _, lp, _ in entries],
                                      'top_logprobs': [dict(alts) for _, _, alts in entries]}
        data = response(args, 200, 'OK', {'id': f'cmpl-{state.requests}', 'object': obj, 'model': model,
                                          'choices': [choice], 'usage': usage})
        return Answer(prompt, data)


class Answer:
    """A successful completion to send: counted as answered when it is written."""

    def __init__(self, prompt, data):
        self.prompt = prompt
        self.data = data


def self_signed_context(directory):
    """An SSLContext serving a new self-signed certificate for 127.0.0.1 and localhost, written
    to directory/cert.pem and directory/key.pem."""
    import datetime
    import ipaddress
    import os
    import ssl
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, 'stepwise test server')])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName('localhost'),
                                                        x509.IPAddress(ipaddress.ip_address('127.0.0.1'))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    os.makedirs(directory, exist_ok=True)
    cert_path, key_path = os.path.join(directory, 'cert.pem'), os.path.join(directory, 'key.pem')
    with open(cert_path, 'wb') as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(key_path, 'wb') as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_path, key_path)
    context.set_alpn_protocols(['http/1.1'])
    return context


async def main():
    p = argparse.ArgumentParser()
    p.add_argument('--latency-ms', type=float, default=0)
    p.add_argument('--require-key', default=None)
    p.add_argument('--hang-seconds', type=float, default=5)
    p.add_argument('--chunked', action='store_true')
    p.add_argument('--close', action='store_true')
    p.add_argument('--idle-timeout', type=float, default=0)
    p.add_argument('--close-delimited', action='store_true')
    p.add_argument('--no-logprobs', action='store_true')
    p.add_argument('--tls-dir', default=None)
    p.add_argument('--generations', default=None)
    args = p.parse_args()
    context = None
    if args.tls_dir:
        try:
            context = self_signed_context(args.tls_dir)
        except ImportError as e:
            print(f'NO-TLS {e}', flush=True)
            return
    state = State()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: Connection(state, args), '127.0.0.1', 0, backlog=1024, ssl=context)
    port = server.sockets[0].getsockname()[1]
    print(f'PORT {port}', flush=True)
    async with server:
        await server.serve_forever()


def serve(main):
    """Runs the asyncio `main` until SIGTERM or SIGINT (shared with forward_proxy.py)."""
    # A parent that ignores SIGTERM passes that on through exec; restore the default so that
    # Process.terminate() stops this server.
    # Likewise a blocked signal mask is inherited: unblock SIGTERM and SIGINT.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == '__main__':
    serve(main)
