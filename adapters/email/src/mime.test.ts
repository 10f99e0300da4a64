// The MIME reader both email transports use, on messages written as RFC 5322 and RFC 2047 describe them.
import { describe, expect, it } from 'vitest';
import { htmlToText, readMime } from './mime.js';

const crlf = (lines: string[]) => lines.join('\r\n');

describe('readMime', () => {
  it('reads an HTML-only mail into text that keeps its links, decodes encoded words, flattens groups', async () => {
    const mail = await readMime(
      crlf([
        'From: =?UTF-8?Q?Ana_Mu=C3=B1oz?= <Ana@Example.com>',
        'To: Travel desk: desk@acme.example, "Sam" <sam@acme.example>;, Bookings@Acme.example',
        'Cc: ops@acme.example',
        'Subject: =?UTF-8?B?w4ljaGFuZ2Ugb2YgZGF0ZXM=?=',
        'Message-ID: <abc@mail.example.com>',
        'In-Reply-To: <ours@acme.example>',
        'References: <first@acme.example> <ours@acme.example>',
        'Date: not a date',
        'List-Id: <offers.acme.example>',
        'Content-Type: text/html; charset=utf-8',
        '',
        '<p>Can we move to <b>May&nbsp;3</b>?</p><p>Details: <a href="https://trip.example/42">our booking</a></p>',
      ]),
      'email',
    );
    expect(mail).toMatchObject({
      from: { name: 'Ana Muñoz', address: 'ana@example.com' },
      to: ['desk@acme.example', 'sam@acme.example', 'bookings@acme.example'],
      cc: ['ops@acme.example'],
      subject: 'Échange of dates',
      text: null,
      date: null,
      headers: {
        'message-id': '<abc@mail.example.com>',
        'in-reply-to': '<ours@acme.example>',
        references: '<first@acme.example> <ours@acme.example>',
        'list-id': '<offers.acme.example>',
      },
    });
    expect(htmlToText(mail.html!)).toBe('Can we move to May 3?\nDetails: our booking (https://trip.example/42)');
  });

  it('keeps an attachment’s bytes, type and name, and a plausible date', async () => {
    const bytes = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 255]);
    const mail = await readMime(
      crlf([
        'From: ana@example.com',
        'To: desk@acme.example',
        'Date: Fri, 04 Dec 2026 10:00:00 +0000',
        'Content-Type: multipart/mixed; boundary="b1"',
        '',
        '--b1',
        'Content-Type: text/plain; charset=utf-8',
        '',
        'The passport scan.',
        '--b1',
        'Content-Type: image/png; name="passport.png"',
        'Content-Disposition: attachment; filename="passport.png"',
        'Content-Transfer-Encoding: base64',
        '',
        bytes.toString('base64'),
        '--b1--',
        '',
      ]),
      'email',
    );
    expect(mail.text?.trim()).toBe('The passport scan.');
    expect(mail.date?.toISOString()).toBe('2026-12-04T10:00:00.000Z');
    expect(mail.attachments).toHaveLength(1);
    expect(mail.attachments[0]).toMatchObject({ mime_type: 'image/png', filename: 'passport.png', size: bytes.length });
    expect(Buffer.from(mail.attachments[0]!.content!)).toEqual(bytes);
  });

  it('keeps a forwarded mail as one attachment, not merged into the message that forwards it', async () => {
    const mail = await readMime(
      crlf([
        'From: ana@example.com',
        'To: desk@acme.example',
        'Subject: Fwd: your booking',
        'Content-Type: multipart/mixed; boundary="b1"',
        '',
        '--b1',
        'Content-Type: text/plain; charset=utf-8',
        '',
        'See the airline mail below.',
        '--b1',
        'Content-Type: message/rfc822',
        'Content-Disposition: inline',
        '',
        'From: noreply@airline.example',
        'To: ana@example.com',
        'Subject: Your flight',
        'Content-Type: text/plain; charset=utf-8',
        '',
        'Flight TP123 is confirmed.',
        '--b1--',
        '',
      ]),
      'email',
    );
    expect(mail.text?.trim()).toBe('See the airline mail below.');
    expect(mail.attachments).toHaveLength(1);
    expect(mail.attachments[0]!.mime_type).toBe('message/rfc822');
    expect(Buffer.from(mail.attachments[0]!.content!).toString()).toContain('Flight TP123 is confirmed.');
  });

  it('turns HTML into text in linear time, whatever is left unclosed', () => {
    expect(htmlToText(`${'<'.repeat(1000)}x`)).toBe(`${'<'.repeat(1000)}x`);
    expect(htmlToText('<p>hi<script>alert(1)</script> there<style>p{}</style></p><style>')).toBe('hi there');
    expect(htmlToText(`<a href='https://x.example/a'>open</a>`)).toBe('open (https://x.example/a)');
  });
});
