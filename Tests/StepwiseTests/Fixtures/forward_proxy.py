#!/usr/bin/env python3
"""A tiny HTTP forward proxy for Stepwise's transport tests: CONNECT tunnels only (AsyncHTTPClient
reaches http:// and https:// servers through a proxy with CONNECT).

    python3 forward_proxy.py [--require-auth USER:PASSWORD]

Listens on 127.0.0.1 on an ephemeral port and prints "PORT <n>" once ready. Only targets on
127.0.0.1 / localhost are tunnelled (403 otherwise). GET /stats (sent to the proxy itself) returns
{"tunnels": n, "targets": {"host:port": n}, "refused": n}. With --require-auth, a CONNECT without
"Proxy-Authorization: Basic base64(USER:PASSWORD)" gets 407.
"""
import argparse
import asyncio
import base64
import json

from fake_openai_server import serve

stats = {'tunnels': 0, 'targets': {}, 'refused': 0}


async def pipe(reader, writer):
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        try:
            writer.close()
        except Exception:
            pass


async def reply(writer, status, reason, body=b''):
    writer.write(f'HTTP/1.1 {status} {reason}\r\nContent-Length: {len(body)}\r\n'
                 f'Content-Type: application/json\r\n\r\n'.encode() + body)
    await writer.drain()


async def handle(reader, writer, auth):
    try:
        head = await reader.readuntil(b'\r\n\r\n')
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
        writer.close()
        return
    lines = head.decode('latin-1').split('\r\n')
    method, target, _ = (lines[0].split(' ', 2) + ['', ''])[:3]
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(':')
        headers[k.strip().lower()] = v.strip()
    if method == 'GET' and target == '/stats':
        await reply(writer, 200, 'OK', json.dumps(stats).encode())
        writer.close()
        return
    if method != 'CONNECT':
        stats['refused'] += 1
        await reply(writer, 405, 'Method Not Allowed')
        writer.close()
        return
    if auth and headers.get('proxy-authorization') != 'Basic ' + base64.b64encode(auth.encode()).decode():
        stats['refused'] += 1
        writer.write(b'HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="test"\r\n'
                     b'Content-Length: 0\r\n\r\n')
        await writer.drain()
        writer.close()
        return
    host, _, port = target.rpartition(':')
    if host not in ('127.0.0.1', 'localhost'):
        stats['refused'] += 1
        await reply(writer, 403, 'Forbidden')
        writer.close()
        return
    try:
        up_reader, up_writer = await asyncio.open_connection('127.0.0.1', int(port))
    except (OSError, ValueError):
        stats['refused'] += 1
        await reply(writer, 502, 'Bad Gateway')
        writer.close()
        return
    stats['tunnels'] += 1
    stats['targets'][target] = stats['targets'].get(target, 0) + 1
    writer.write(b'HTTP/1.1 200 Connection Established\r\n\r\n')
    await writer.drain()
    await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))


async def main():
    p = argparse.ArgumentParser()
    p.add_argument('--require-auth', default=None)
    args = p.parse_args()
    server = await asyncio.start_server(lambda r, w: handle(r, w, args.require_auth), '127.0.0.1', 0)
    print(f'PORT {server.sockets[0].getsockname()[1]}', flush=True)
    async with server:
        await server.serve_forever()


if __name__ == '__main__':
    serve(main)
