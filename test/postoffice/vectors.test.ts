// The pure postoffice parts against test/fixtures/gawp1-vectors.json: hellos, transcript hash,
// keys, confirms and frames byte for byte; every frame refused at a wrong seq or with a bit flipped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadFixture } from '../helpers/fixtures.js';
import {
  agree,
  clientConfirm,
  decodeHello,
  deriveKeys,
  encodeHello,
  ephemeralFromPrivate,
  serverConfirm,
  transcriptHash,
} from '../../src/postoffice/handshake.js';
import type { SessionKeys } from '../../src/postoffice/handshake.js';
import { createOpener, createSealer } from '../../src/postoffice/seal.js';
import { FrameDecoder, packMessages, unpackMessages } from '../../src/postoffice/frame.js';
import { parseSecret } from '../../src/postoffice/secret.js';

interface VectorFrame {
  dir: 'c2s' | 's2c';
  seq: number;
  type: number;
  messages_utf8: string[];
  iv?: string;
  frame: string;
}
interface VectorCase {
  name: string;
  suite: number;
  fs: boolean;
  codec: number;
  key_id: number;
  secret: string | null;
  client_random: string;
  server_random: string;
  client_eph_private?: string;
  client_eph_public?: string;
  server_eph_private?: string;
  server_eph_public?: string;
  x25519_shared?: string;
  client_hello: string;
  server_hello: string;
  transcript_hash?: string;
  keys?: Record<string, string>;
  server_confirm?: string;
  client_finish?: string;
  frames: VectorFrame[];
}
const vectors = loadFixture<{ cases: VectorCase[] }>('gawp1-vectors.json');
const hex = (s: string) => Buffer.from(s, 'hex');

function keysFor(c: VectorCase) {
  const clientHello = hex(c.client_hello);
  const serverHello = hex(c.server_hello);
  const th = transcriptHash(clientHello, serverHello);
  const shared = c.fs ? agree(ephemeralFromPrivate(hex(c.client_eph_private!)), hex(c.server_eph_public!)) : undefined;
  return {
    th,
    keys: deriveKeys({
      psk: parseSecret(c.secret),
      shared,
      clientRandom: hex(c.client_random),
      serverRandom: hex(c.server_random),
      th,
    }),
  };
}

/** Each case's session keys (none in suite none), derived once: the bit-flip loop needs them thousands of times. */
const sessionKeys = new Map<VectorCase, SessionKeys | undefined>();
function keysOf(c: VectorCase, dir: 'c2s' | 's2c') {
  if (!sessionKeys.has(c)) sessionKeys.set(c, c.suite === 0 ? undefined : keysFor(c).keys);
  const keys = sessionKeys.get(c);
  return dir === 'c2s' ? { enc: keys?.c2sEnc, mac: keys?.c2sMac } : { enc: keys?.s2cEnc, mac: keys?.s2cMac };
}

/** A sealer for one direction whose cbc IVs are the vectors' own, in order. */
function sealerFor(c: VectorCase, dir: 'c2s' | 's2c') {
  const { enc, mac } = keysOf(c, dir);
  const ivs = c.frames.filter((x) => x.dir === dir).map((x) => (x.iv ? hex(x.iv) : Buffer.alloc(16)));
  let i = 0;
  return createSealer(c.suite, enc, mac, { nextIv: () => ivs[i++] ?? Buffer.alloc(16, 7) });
}

function openerFor(c: VectorCase, dir: 'c2s' | 's2c') {
  const { enc, mac } = keysOf(c, dir);
  return createOpener(c.suite, enc, mac);
}

/** Opens `frame` after advancing a fresh opener to `seq` with the direction's earlier frames. */
function openAt(c: VectorCase, dir: 'c2s' | 's2c', seq: number, frame: Buffer) {
  const opener = openerFor(c, dir);
  const earlier = c.frames.filter((x) => x.dir === dir);
  for (let s = 0; s < seq; s++) {
    const prior = earlier.find((x) => x.seq === s);
    if (prior) opener.open(hex(prior.frame));
    else assert.fail(`no vector frame at seq ${s}`);
  }
  return opener.open(frame);
}

function messagesOf(payload: Buffer): string[] {
  const out: string[] = [];
  if (payload.length > 0) unpackMessages(payload, (m) => out.push(m.toString('utf8')));
  return out;
}

for (const c of vectors.cases) {
  test(`vector ${c.name}: the hellos come out byte for byte`, () => {
    const clientEph = c.fs ? ephemeralFromPrivate(hex(c.client_eph_private!)).publicKey : Buffer.alloc(32);
    const serverEph = c.fs ? ephemeralFromPrivate(hex(c.server_eph_private!)).publicKey : Buffer.alloc(32);
    if (c.fs) {
      assert.equal(clientEph.toString('hex'), c.client_eph_public);
      assert.equal(serverEph.toString('hex'), c.server_eph_public);
    }
    const flags = c.fs ? 1 : 0;
    const common = { suite: c.suite, flags, codec: c.codec, keyId: c.key_id };
    assert.equal(
      encodeHello({ ...common, random: hex(c.client_random), eph: clientEph }).toString('hex'),
      c.client_hello,
    );
    assert.equal(
      encodeHello({ ...common, random: hex(c.server_random), eph: serverEph }).toString('hex'),
      c.server_hello.slice(0, 146),
    );
    const parsed = decodeHello(hex(c.client_hello));
    assert.deepEqual({ suite: parsed.suite, flags: parsed.flags, codec: parsed.codec, keyId: parsed.keyId }, common);
  });

  if (c.suite !== 0) {
    test(`vector ${c.name}: the transcript hash, shared secret, keys and confirms match`, () => {
      if (c.fs) {
        const shared = agree(ephemeralFromPrivate(hex(c.client_eph_private!)), hex(c.server_eph_public!));
        assert.equal(shared?.toString('hex'), c.x25519_shared);
        const reverse = agree(ephemeralFromPrivate(hex(c.server_eph_private!)), hex(c.client_eph_public!));
        assert.equal(reverse?.toString('hex'), c.x25519_shared);
      }
      const { th, keys } = keysFor(c);
      assert.equal(th.toString('hex'), c.transcript_hash);
      const names = {
        c2s_enc: keys.c2sEnc,
        c2s_mac: keys.c2sMac,
        s2c_enc: keys.s2cEnc,
        s2c_mac: keys.s2cMac,
        conf_s: keys.confS,
        conf_c: keys.confC,
      };
      for (const [name, value] of Object.entries(names)) assert.equal(value.toString('hex'), c.keys![name], name);
      const confirm = serverConfirm(keys, th);
      assert.equal(confirm.toString('hex'), c.server_confirm);
      assert.equal(c.server_hello.slice(146), c.server_confirm, 'the ServerHello ends with the server confirm');
      assert.equal(clientConfirm(keys, th).toString('hex'), c.client_finish);
    });
  }

  for (const dir of ['c2s', 's2c'] as const) {
    const frames = c.frames.filter((f) => f.dir === dir).sort((a, b) => a.seq - b.seq);
    if (frames.length === 0) continue;
    test(`vector ${c.name}: ${dir} frames seal byte for byte and open to their messages`, () => {
      const sealer = sealerFor(c, dir);
      const opener = openerFor(c, dir);
      for (const f of frames) {
        assert.equal(sealer.seq, f.seq);
        const payload = f.messages_utf8.length
          ? packMessages(f.messages_utf8.map((m) => Buffer.from(m, 'utf8')))
          : Buffer.alloc(0);
        assert.equal(sealer.seal(f.type, payload).toString('hex'), f.frame, `seq ${f.seq}`);
        const opened = opener.open(hex(f.frame));
        assert.equal(opened.type, f.type);
        assert.deepEqual(messagesOf(opened.payload), f.messages_utf8);
      }
    });

    if (c.suite !== 0) {
      test(`vector ${c.name}: ${dir} frames are refused at a wrong seq and with any single bit flipped`, () => {
        for (const f of frames) {
          const frame = hex(f.frame);
          for (const wrongSeq of [f.seq + 1, f.seq + 2]) {
            const opener = openerFor(c, dir);
            // Advance the opener with sealed dummy frames to reach the wrong seq.
            const sealer = sealerFor(c, dir);
            for (let s = 0; s < wrongSeq; s++) opener.open(sealer.seal(1, Buffer.from('\0\0\0\x01x', 'latin1')));
            assert.throws(() => opener.open(frame), { code: 'GAW_ERR_AUTH_FAILED' }, `seq ${wrongSeq}`);
          }
          if (f.seq > 0) {
            assert.throws(() => openerFor(c, dir).open(frame), { code: 'GAW_ERR_AUTH_FAILED' }, 'at seq 0');
          }
          // Every single bit of everything after the length (a flipped length is the decoder's job).
          for (let byte = 4; byte < frame.length; byte++) {
            for (let bit = 0; bit < 8; bit++) {
              const tampered = Buffer.from(frame);
              tampered[byte]! ^= 1 << bit;
              assert.throws(
                () => openAt(c, dir, f.seq, tampered),
                (err: { code?: string }) => err.code === 'GAW_ERR_AUTH_FAILED',
                `byte ${byte} bit ${bit}`,
              );
            }
          }
          assert.deepEqual(
            messagesOf(openAt(c, dir, f.seq, frame).payload),
            f.messages_utf8,
            'the untouched frame still opens',
          );
        }
      });
    }

    test(`vector ${c.name}: ${dir} frames decode split at every byte and one byte at a time`, () => {
      const stream = Buffer.concat(frames.map((f) => hex(f.frame)));
      const expected = frames.map((f) => f.frame);
      for (let cut = 0; cut <= stream.length; cut++) {
        const decoder = new FrameDecoder({ suite: c.suite, maxPayloadBytes: 1 << 20 });
        const out: string[] = [];
        decoder.push(stream.subarray(0, cut), (fr) => out.push(fr.toString('hex')));
        decoder.push(stream.subarray(cut), (fr) => out.push(fr.toString('hex')));
        assert.deepEqual(out, expected, `cut at ${cut}`);
        assert.equal(decoder.hasPartialFrame, false);
      }
      const decoder = new FrameDecoder({ suite: c.suite, maxPayloadBytes: 1 << 20 });
      const out: string[] = [];
      for (let i = 0; i < stream.length; i++)
        decoder.push(stream.subarray(i, i + 1), (fr) => out.push(fr.toString('hex')));
      assert.deepEqual(out, expected);
    });
  }
}
