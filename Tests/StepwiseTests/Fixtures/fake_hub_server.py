#!/usr/bin/env python3
"""A fake Hugging Face hub for Stepwise's hub-download tests: one model repository, served the
way huggingface.co serves it, on 127.0.0.1 (never the real hub).

    python3 fake_hub_server.py --repo org/name --dir DIR --commit SHA [--branch NAME ...]
                               [--require-token TOKEN] [--drop-once FILE] [--wrong-sha FILE]
                               [--missing FILE] [--fail-5xx-once FILE]

DIR holds the repository's files (flat). Prints "PORT <n>" once listening.

    GET  /api/models/{repo}/revision/{rev}   {"sha": commit, "siblings": [{"rfilename": f}, ...]}
                                             (rev: a --branch name, default main, or the commit)
    HEAD|GET /{repo}/resolve/{rev}/{file}    small files (*.json, *.txt): 200 with the bytes,
                                             ETag: "<git blob sha1>"; large files (others): 302 to
                                             http://localhost:<port>/cdn/<sha256> (another
                                             origin than 127.0.0.1, as a CDN is) with X-Linked-Etag: "<sha256>" and
                                             X-Linked-Size; X-Repo-Commit on both
    GET  /cdn/{sha256}                       the bytes; honours "Range: bytes=N-" with a 206
    GET  /stats                              {"requests": n, "by_kind": {...}, "cdn_bytes": {file: n},
                                             "ranges": [[file, start], ...], "auth": [...],
                                             "etags": {file: blob name}}
                                             (/stats itself is not counted)

Faults: --require-token T answers 401 (X-Error-Code: RepoNotFound, as the hub does for a
private repository) to hub requests without "Authorization: Bearer T" (the CDN needs none);
--drop-once F sends half of F's bytes on its first CDN request, then closes the connection;
--wrong-sha F announces a sha256 for F that its bytes do not have; --missing F lists F but
answers 404 EntryNotFound for it; --fail-5xx-once F answers F's first resolve request with 503.
"""
import argparse
import hashlib
import json
import os
import socket
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SMALL_SUFFIXES = ('.json', '.txt')  # served directly; other files as LFS, through the CDN


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--repo', required=True)
    p.add_argument('--dir', required=True)
    p.add_argument('--commit', required=True)
    p.add_argument('--branch', action='append', default=[])
    p.add_argument('--require-token')
    p.add_argument('--drop-once', action='append', default=[])
    p.add_argument('--wrong-sha', action='append', default=[])
    p.add_argument('--missing', action='append', default=[])
    p.add_argument('--fail-5xx-once', action='append', default=[])
    args = p.parse_args()
    branches = args.branch or ['main']

    files = {}
    for name in sorted(os.listdir(args.dir)):
        data = open(os.path.join(args.dir, name), 'rb').read()
        sha256 = hashlib.sha256(data).hexdigest()
        git_sha1 = hashlib.sha1(b'blob %d\0' % len(data) + data).hexdigest()
        lfs = not name.endswith(SMALL_SUFFIXES)
        etag = sha256 if lfs else git_sha1
        if name in args.wrong_sha:
            etag = hashlib.sha256(b'not the bytes of ' + data).hexdigest()
        files[name] = {'data': data, 'sha256': sha256, 'etag': etag, 'lfs': lfs}
    by_cdn = {f['etag']: name for name, f in files.items() if f['lfs']}

    lock = threading.Lock()
    stats = {'requests': 0, 'by_kind': {}, 'cdn_bytes': {}, 'ranges': [], 'auth': [],
             'etags': {name: f['etag'] for name, f in files.items()}}
    dropped = set()
    failed = set()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = 'HTTP/1.1'

        def log_message(self, *a):
            pass

        def count(self, kind):
            with lock:
                stats['requests'] += 1
                stats['by_kind'][kind] = stats['by_kind'].get(kind, 0) + 1

        def reply(self, status, body=b'', headers=(), head_only=False):
            self.send_response(status)
            for k, v in headers:
                self.send_header(k, v)
            if not any(k.lower() == 'content-length' for k, _ in headers):
                self.send_header('Content-Length', str(len(body)))
            self.end_headers()
            if not head_only:
                self.wfile.write(body)

        def authorized(self):
            if not args.require_token:
                return True
            got = self.headers.get('Authorization')
            with lock:
                stats['auth'].append(got)
            if got == 'Bearer ' + args.require_token:
                return True
            self.reply(401, b'{"error":"Invalid credentials"}', [('X-Error-Code', 'RepoNotFound'),
                       ('X-Error-Message', 'Repository not found')], self.command == 'HEAD')
            return False

        def do_HEAD(self):
            self.route()

        def do_GET(self):
            self.route()

        def route(self):
            path = urllib.parse.unquote(urllib.parse.urlsplit(self.path).path)
            head = self.command == 'HEAD'
            if path == '/stats':
                with lock:
                    return self.reply(200, json.dumps(stats).encode())
            api = '/api/models/%s/revision/' % args.repo
            resolve = '/%s/resolve/' % args.repo
            if path.startswith(api):
                self.count('api')
                if not self.authorized():
                    return
                rev = path[len(api):]
                if rev not in branches and rev != args.commit:
                    return self.reply(404, b'{}', [('X-Error-Code', 'RevisionNotFound')], head)
                body = json.dumps({'id': args.repo, 'sha': args.commit,
                                   'siblings': [{'rfilename': n} for n in files]}).encode()
                return self.reply(200, body, [('Content-Type', 'application/json')], head)
            if path.startswith(resolve):
                self.count('resolve_' + self.command.lower())
                if not self.authorized():
                    return
                rev, _, name = path[len(resolve):].partition('/')
                if rev not in branches and rev != args.commit:
                    return self.reply(404, b'', [('X-Error-Code', 'RevisionNotFound')], head)
                if name not in files or name in args.missing:
                    return self.reply(404, b'', [('X-Error-Code', 'EntryNotFound')], head)
                if name in args.fail_5xx_once and name not in failed:
                    failed.add(name)
                    return self.reply(503, b'busy', [], head)
                f = files[name]
                common = [('X-Repo-Commit', args.commit)]
                if f['lfs']:
                    return self.reply(302, b'', common + [
                        ('Location', 'http://localhost:%d/cdn/%s' % (self.server.server_address[1], f['etag'])),
                        ('X-Linked-Etag', '"%s"' % f['etag']),
                        ('X-Linked-Size', str(len(f['data']))),
                        ('ETag', '"%s"' % hashlib.sha1(name.encode()).hexdigest())], head)
                return self.reply(200, f['data'], common + [('ETag', '"%s"' % f['etag'])], head)
            if path.startswith('/cdn/'):
                self.count('cdn')
                if self.headers.get('Authorization'):
                    with lock:
                        stats['auth'].append('cdn:' + self.headers['Authorization'])
                name = by_cdn.get(path[5:])
                if name is None:
                    return self.reply(404, b'', [], head)
                data = files[name]['data']
                start = 0
                rng = self.headers.get('Range')
                if rng and rng.startswith('bytes=') and rng.endswith('-'):
                    start = int(rng[6:-1])
                    with lock:
                        stats['ranges'].append([name, start])
                    if start >= len(data):
                        return self.reply(416, b'', [('Content-Range', 'bytes */%d' % len(data))], head)
                    status, extra = 206, [('Content-Range', 'bytes %d-%d/%d' % (start, len(data) - 1, len(data)))]
                else:
                    status, extra = 200, []
                body = data[start:]
                drop = name in args.drop_once and name not in dropped
                self.send_response(status)
                for k, v in extra:
                    self.send_header(k, v)
                self.send_header('Content-Length', str(len(body)))
                self.end_headers()
                if head:
                    return
                if drop:
                    dropped.add(name)
                    body = body[:len(body) // 2]
                self.wfile.write(body)
                self.wfile.flush()
                with lock:
                    stats['cdn_bytes'][name] = stats['cdn_bytes'].get(name, 0) + len(body)
                if drop:
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                return
            self.count('other')
            self.reply(404, b'', [], head)

    server = ThreadingHTTPServer(('127.0.0.1', 0), Handler)
    server.daemon_threads = True
    print('PORT %d' % server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == '__main__':
    main()
