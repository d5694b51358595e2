#!/usr/bin/env python3
"""Runs a command on a pseudo-terminal of COLS columns and checks its live
stats line: every "Stats:" segment (between carriage returns) fits the width,
and the line is redrawn in place with \\r. With --resize=N, the terminal
narrows to N columns once a line was drawn; the last redraw must fit N.

usage: ptyrun.py --cols=80 [--resize=40] --out=FILE -- COMMAND...
Exit 0 if the checks hold, 1 with a reason on stdout otherwise. Bounded:
the command is killed after 60 s."""
import fcntl, os, pty, re, select, signal, struct, sys, termios, time

ANSI = re.compile(rb'\x1b\[[0-9;?]*[A-Za-z]')


def winsize(fd, cols):
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack('HHHH', 24, cols, 0, 0))


def main():
    args = sys.argv[1:]
    cut = args.index('--')
    opts = dict(a[2:].split('=', 1) for a in args[:cut])
    cmd = args[cut + 1:]
    cols, resize = int(opts['cols']), int(opts.get('resize', 0))
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(cmd[0], cmd)
    winsize(fd, cols)
    os.kill(pid, signal.SIGWINCH)
    out, resized_at, deadline = b'', None, time.time() + 60
    while time.time() < deadline:
        r, _, _ = select.select([fd], [], [], 1.0)
        if not r:
            continue
        try:
            data = os.read(fd, 65536)
        except OSError:
            break
        if not data:
            break
        out += data
        if resize and resized_at is None and out.count(b'\rStats:') >= 1:
            winsize(fd, resize)
            resized_at = len(out)
    else:
        os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    open(opts['out'], 'wb').write(out)
    draws = [ANSI.sub(b'', seg) for line in out.split(b'\n')
             for seg in line.split(b'\r') if seg.startswith(b'Stats:')]
    if out.count(b'\rStats:') < 2:
        print('fewer than 2 redraws with \\r: %r' % out[-300:])
        return 1
    wide = [d for d in draws if len(d) > cols]
    if wide:
        print('%d of %d draws wider than %d columns: %r' % (len(wide), len(draws), cols, wide[0]))
        return 1
    if resize:
        after = [ANSI.sub(b'', seg) for seg in out[resized_at:].split(b'\r')
                 if seg.startswith(b'Stats:')]
        last = after[-1].split(b'\n')[0] if after else b''
        if not after or len(last) > resize:
            print('last draw after narrowing to %d is %r' % (resize, last))
            return 1
    code = os.waitstatus_to_exitcode(status)
    print('exit %d, %d draws, widest %d' % (code, len(draws), max(len(d) for d in draws)))
    return 0 if code == 0 else 1


sys.exit(main())
