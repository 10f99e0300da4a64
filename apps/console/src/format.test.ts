import { describe, expect, it } from 'vitest';
import {
  attachmentView,
  duration,
  encodeMentions,
  initials,
  memberName,
  mentionQuery,
  mentionSegments,
  renderVariables,
  replyWindow,
  slashQuery,
  statusTick,
} from './format';

const NOW = Date.parse('2026-12-04T12:00:00Z');
const hoursAgo = (h: number) => new Date(NOW - h * 3600_000).toISOString();

describe('the reply window', () => {
  it('is open for 24 hours after the customer last wrote on WhatsApp, with templates once it closes', () => {
    expect(replyWindow({ channel: 'whatsapp', last_inbound_at: hoursAgo(23) }, NOW)).toMatchObject({
      applies: true,
      open: true,
      remainingMs: 3600_000,
      templates: true,
    });
    expect(replyWindow({ channel: 'whatsapp', last_inbound_at: hoursAgo(25) }, NOW)).toMatchObject({ open: false });
    expect(replyWindow({ channel: 'whatsapp', last_inbound_at: null }, NOW)).toMatchObject({ open: false });
    expect(replyWindow({ channel: 'messenger', last_inbound_at: hoursAgo(30) }, NOW)).toMatchObject({
      open: false,
      templates: false,
    });
  });
  it('does not apply to email or SMS', () => {
    expect(replyWindow({ channel: 'email', last_inbound_at: null }, NOW)).toMatchObject({ applies: false, open: true });
    expect(replyWindow({ channel: 'sms', last_inbound_at: hoursAgo(100) }, NOW).open).toBe(true);
  });
  it('says how long is left', () => {
    expect(duration(59 * 60_000)).toBe('59 min');
    expect(duration(5 * 3600_000 + 61_000)).toBe('5 h 2 min');
  });
});

describe('quick replies', () => {
  it('fills the variables it knows and lists the others, as the API does', () => {
    expect(
      renderVariables('Hi {{first_name}}, your {{ trip }} is {{status}}', { first_name: 'Ana', trip: 'Lisbon' }),
    ).toEqual({
      text: 'Hi Ana, your Lisbon is {{status}}',
      missing: ['status'],
    });
  });
  it('opens the picker only for a leading /word', () => {
    expect(slashQuery('/')).toBe('');
    expect(slashQuery('/Thanks')).toBe('thanks');
    expect(slashQuery('a /thanks')).toBeNull();
    expect(slashQuery('/thanks you')).toBeNull();
  });
});

describe('delivery ticks', () => {
  it('says each status in words for screen readers', () => {
    expect(statusTick('pending').label).toBe('Sending');
    expect(statusTick('sent')).toEqual({ symbol: '✓', label: 'Sent' });
    expect(statusTick('delivered')).toEqual({ symbol: '✓✓', label: 'Delivered' });
    expect(statusTick('read').label).toBe('Read');
    expect(statusTick('failed').label).toBe('Failed');
  });
});

describe('mentions', () => {
  const ann = '11111111-1111-4111-8111-111111111111';
  const bo = '22222222-2222-4222-8222-222222222222';
  const members = [
    { user_id: ann, nickname: 'Ann' },
    { user_id: bo, nickname: null },
  ];
  it('names members by nickname, else a short id, and marks the caller', () => {
    expect(memberName(ann, members)).toBe('Ann');
    expect(memberName(bo, members)).toBe('user-22222222');
    expect(memberName(ann, members, ann)).toBe('Ann (you)');
    expect(memberName(null, members)).toBe('System');
  });
  it('splits content into text and named mentions', () => {
    expect(mentionSegments(`hi <@${ann}> and <@${bo}>!`, members)).toEqual([
      { text: 'hi ', at: 0 },
      { mention: '@Ann', userId: ann, at: 3 },
      { text: ' and ', at: 42 },
      { mention: '@user-22222222', userId: bo, at: 47 },
      { text: '!', at: 86 },
    ]);
  });
  it('finds the @word before the caret, and turns picked names into <@id>', () => {
    expect(mentionQuery('ask @An', 7)).toEqual({ query: 'an', start: 4 });
    expect(mentionQuery('mail a@b', 8)).toBeNull();
    expect(
      encodeMentions(
        '@Ann and @Annabel',
        new Map([
          ['Ann', ann],
          ['Annabel', bo],
        ]),
      ),
    ).toBe(`<@${ann}> and <@${bo}>`);
  });
});

describe('attachments', () => {
  const url = '/api/v1/tenants/demo/communications/media/7';
  it('shows a stored image inline and anything else as a link', () => {
    expect(attachmentView({ id: 7, mime_type: 'image/jpeg', url, status: 'stored', filename: 'a.jpg' })).toEqual({
      kind: 'image',
      url,
      label: 'a.jpg',
    });
    expect(attachmentView({ id: 8, mime_type: 'application/pdf', url, status: 'stored', filename: 'v.pdf' }).kind).toBe(
      'link',
    );
  });
  it('says when a file is not there (yet)', () => {
    expect(attachmentView({ mime_type: 'image/png', status: 'pending' })).toEqual({
      kind: 'note',
      label: 'image/png file (being fetched)',
    });
    expect(attachmentView({ filename: 'x.exe', status: 'rejected', error: 'type not allowed' }).label).toBe(
      'x.exe: not available (type not allowed)',
    );
  });
  it('gives avatars two letters', () => {
    expect(initials('Ana Souza')).toBe('AS');
    expect(initials('+5511999990000')).toBe('00');
    expect(initials('júlia')).toBe('JÚ');
  });
});
