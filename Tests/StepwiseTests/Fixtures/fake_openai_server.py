#!/usr/bin/env python3
"""A small OpenAI-compatible server for Stepwise's HTTP-teacher tests (raw asyncio, HTTP/1.1
keep-alive; no http.server, which stalls ~47 ms per request).

    python3 fake_openai_server.py [--latency-ms N] [--require-key KEY] [--hang-seconds S]
                                  [--chunked] [--close] [--idle-timeout S]

Listens on 127.0.0.1 on an ephemeral port and prints "PORT <n>" on stdout once ready.

Endpoints: POST /v1/chat/completions, POST /v1/completions, GET /stats, POST /reset.
The completion text is deterministic in the prompt:
    "I read <n> characters. The answer is ( <n> + 1 )."      (n = len(prompt) in code points)

Faults are requested by markers in the prompt, each for the first K attempts of that prompt
(attempts are counted per exact prompt text):
    [[429xK]]      429 with "Retry-After: 1"
    [[500xK]]      500 with a JSON error body
    [[hangxK]]     no answer for --hang-seconds (default 5), then the connection is closed
    [[badjsonxK]]  200 with a truncated JSON body
    [[dropxK]]     the connection is closed without any response
    [[400]]        always 400 (a permanent error)

Options for exercising clients: --chunked sends every body with chunked transfer coding;
--close answers every request with "Connection: close" and closes; --idle-timeout S closes a
keep-alive connection that has been idle for S seconds (as uvicorn does after 5 s).

GET /stats returns {"requests": total completion requests, "by_path": {...},
"faults": {...}, "max_in_flight": n, "in_flight": n, "connections": accepted connections};
/stats and /reset are not counted.

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


def response(args, status, reason, body, extra_headers=()):
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    head = [f'HTTP/1.1 {status} {reason}', 'Content-Type: application/json']
    if args.chunked:
        # Three chunks (one with an extension) and a trailer: every part of the framing is used.
        a, b = len(data) // 3, 2 * len(data) // 3
        parts = [data[:a], data[a:b], data[b:]]
        head.append('Transfer-Encoding: chunked')
        payload = b''.join(b'%x;part=%d\r\n%s\r\n' % (len(p), i, p) for i, p in enumerate(parts) if p)
        payload += b'0\r\nX-Trailer: done\r\n\r\n'
    else:
        head.append(f'Content-Length: {len(data)}')
        payload = data
    if args.close:
        head.append('Connection: close')
    head.extend(extra_headers)
    return ('\r\n'.join(head) + '\r\n\r\n').encode() + payload


def completion_text(prompt):
    n = len(prompt)
    return f'I read {n} characters. The answer is ( {n} + 1 ).'


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
        if not keep or self.args.close:
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
                     'auth_failures': state.auth_failures, 'connections': state.connections}
            self.done(response(args, 200, 'OK', stats))
            return
        if path == '/reset':
            state.reset()
            self.done(response(args, 200, 'OK', {'ok': True}))
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
        data, keep = reply
        return lambda: self.finish(data, keep)

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
        n = len(prompt)
        usage = {'prompt_tokens': n // 4 + 1, 'completion_tokens': len(text) // 4 + 1,
                 'total_tokens': n // 4 + 1 + len(text) // 4 + 1}
        if path.endswith('/chat/completions'):
            choice = {'index': 0, 'message': {'role': 'assistant', 'content': text}, 'finish_reason': 'stop'}
            obj = 'chat.completion'
        else:
            choice = {'index': 0, 'text': text, 'finish_reason': 'stop'}
            obj = 'text_completion'
        return response(args, 200, 'OK', {'id': f'cmpl-{state.requests}', 'object': obj, 'model': model,
                                          'choices': [choice], 'usage': usage}), True


async def main():
    p = argparse.ArgumentParser()
    p.add_argument('--latency-ms', type=float, default=0)
    p.add_argument('--require-key', default=None)
    p.add_argument('--hang-seconds', type=float, default=5)
    p.add_argument('--chunked', action='store_true')
    p.add_argument('--close', action='store_true')
    p.add_argument('--idle-timeout', type=float, default=0)
    args = p.parse_args()
    state = State()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: Connection(state, args), '127.0.0.1', 0, backlog=1024)
    port = server.sockets[0].getsockname()[1]
    print(f'PORT {port}', flush=True)
    async with server:
        await server.serve_forever()


if __name__ == '__main__':
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
