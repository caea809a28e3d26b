import test from 'ava';
import { EventStream, type NetlinkEvent } from '../../pkg/netlink/events.ts';
import { Handle } from '../../pkg/netlink/handle.ts';
import { ip, withNetnses } from '../helpers/netns.ts';

async function nextMatching(
  it: AsyncIterator<NetlinkEvent>,
  match: (e: NetlinkEvent) => boolean,
  limit = 1000,
): Promise<NetlinkEvent> {
  for (let i = 0; i < limit; i++) {
    const r = await it.next();
    if (r.done) throw new Error('event stream ended');
    if (match(r.value)) return r.value;
  }
  throw new Error('no matching event');
}

test('the event stream sees a link appear and disappear', async (t) => {
  await withNetnses('evt', 1, async ([ns]) => {
    const stream = EventStream.open(ns!.path, ['link', 'address', 'route']);
    const it = stream[Symbol.asyncIterator]();
    try {
      // Made by iproute2, not by our code: the stream must see the kernel's own notifications.
      const first = it.next();
      ip(ns!.path, 'link', 'add', 'evbr0', 'type', 'bridge');
      const added = await first.then((r) =>
        r.value.type === 'link' && r.value.link.name === 'evbr0'
          ? r.value
          : nextMatching(it, (e) => e.type === 'link' && e.link.name === 'evbr0'),
      );
      t.like(added, { type: 'link', action: 'new' });
      ip(ns!.path, 'link', 'set', 'evbr0', 'up');
      ip(ns!.path, 'addr', 'add', '10.250.0.1/24', 'dev', 'evbr0');
      const addr = await nextMatching(it, (e) => e.type === 'address');
      t.like(addr, { type: 'address', action: 'new' });
      t.is(
        addr.type === 'address' ? addr.address.cidr : '',
        '10.250.0.1/24',
        'the event carries the decoded address',
      );
      ip(ns!.path, 'route', 'add', '10.251.0.0/16', 'dev', 'evbr0');
      const route = await nextMatching(it, (e) => e.type === 'route' && e.route.dst === '10.251.0.0/16');
      t.like(route, { type: 'route', action: 'new' });
      ip(ns!.path, 'link', 'del', 'evbr0');
      const removed = await nextMatching(it, (e) => e.type === 'link' && e.action === 'del');
      t.is(removed.type === 'link' ? removed.link.name : '', 'evbr0');
    } finally {
      stream.close();
    }
  });
});

test('a receive-buffer overflow becomes a resync event, not a crash', async (t) => {
  await withNetnses('evt', 1, async ([ns]) => {
    // A tiny buffer and no reading while the kernel sends hundreds of notifications.
    const stream = EventStream.open(ns!.path, ['link', 'address', 'route'], { receiveBufferBytes: 4096 });
    try {
      await Handle.with(ns!.path, async (h) => {
        for (let i = 0; i < 100; i++) await h.linkAdd({ kind: 'bridge', name: `flood${i}`, up: true });
      });
      const it = stream[Symbol.asyncIterator]();
      const resync = await nextMatching(it, (e) => e.type === 'resync', 10000);
      t.is(resync.type, 'resync');
      t.regex(resync.type === 'resync' ? resync.reason : '', /ENOBUFS/);
      // The stream goes on after the resync.
      ip(ns!.path, 'link', 'add', 'after0', 'type', 'bridge');
      const after = await nextMatching(it, (e) => e.type === 'link' && e.link.name === 'after0', 10000);
      t.is(after.type, 'link');
    } finally {
      stream.close();
    }
  });
});

test('a slow consumer gets one resync instead of unbounded memory', async (t) => {
  await withNetnses('evt', 1, async ([ns]) => {
    const stream = EventStream.open(ns!.path, ['link'], { maxQueued: 5 });
    const it = stream[Symbol.asyncIterator]();
    try {
      // Subscribed before the changes: the notifications wait in the socket until the first read.
      await Handle.with(ns!.path, async (h) => {
        for (let i = 0; i < 40; i++) await h.linkAdd({ kind: 'bridge', name: `slow${i}` });
      });
      const resync = await nextMatching(it, (e) => e.type === 'resync');
      t.regex(resync.type === 'resync' ? resync.reason : '', /behind/);
    } finally {
      stream.close();
    }
  });
});

test('closing the stream ends iteration', async (t) => {
  await withNetnses('evt', 1, async ([ns]) => {
    const stream = EventStream.open(ns!.path, ['link'], { pollSliceMs: 50 });
    const it = stream[Symbol.asyncIterator]();
    const pending = it.next();
    stream.close();
    const r = await pending;
    t.true(r.done);
  });
});
