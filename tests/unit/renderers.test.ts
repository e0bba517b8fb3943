import { renderForTerminal, terminalButtons } from '../../adapters/terminal/render';
import { renderForWidget, WIDGET_MAX_TEXT } from '../../adapters/web/render';
import type { Reply } from '../../bot/core/message';

/** One reply with every kind of block, as the skills produce them. */
const everyBlock: Reply = {
  text: 'payments is down',
  blocks: [
    { type: 'section', text: 'payments is **down**: `connection refused`' },
    {
      type: 'fields',
      fields: [
        { label: 'Environment', value: 'production' },
        { label: 'Owners', value: 'team-payments' },
      ],
    },
    { type: 'list', items: ['check the pods', 'roll back'], ordered: true },
    { type: 'code', code: 'kubectl get pods\nkubectl logs x', language: 'sh' },
    {
      type: 'buttons',
      buttons: [
        { actionId: 'dialogue.confirm', label: 'Confirm', value: 'yes', style: 'danger' },
        { actionId: 'dialogue.deny', label: 'Cancel', value: 'no' },
      ],
    },
    {
      type: 'citations',
      citations: [
        {
          source: 'runbooks/payments.md',
          title: 'Payments down',
          heading: 'Remediate',
          score: 0.8234,
          url: 'javascript:alert(1)',
        },
      ],
    },
    {
      type: 'status',
      badges: [
        { label: 'payments', state: 'critical', detail: 'connection refused' },
        { label: 'orders', state: 'ok' },
      ],
    },
  ],
};

describe('terminal renderer', () => {
  it('renders every block as plain text without colour', () => {
    expect(renderForTerminal(everyBlock, { colour: false })).toBe(
      [
        'payments is down: connection refused',
        '  Environment  production\n  Owners       team-payments',
        '  1. check the pods\n  2. roll back',
        '    kubectl get pods\n    kubectl logs x',
        '  [1] Confirm     [2] Cancel',
        '  Sources:\n  - Payments down › Remediate (runbooks/payments.md, 0.82)',
        '  [DOWN] payments — connection refused\n  [OK  ] orders',
      ].join('\n'),
    );
  });

  it('colours only when asked', () => {
    expect(renderForTerminal(everyBlock, { colour: true })).toContain('\x1b[31m[DOWN]');
  });

  it('numbers buttons in the order it shows them', () => {
    expect(terminalButtons(everyBlock).map((b) => b.actionId)).toEqual(['dialogue.confirm', 'dialogue.deny']);
  });
});

describe('widget renderer', () => {
  it('renders every block as widget JSON, formatting scores and dropping unsafe links', () => {
    const widget = renderForWidget(everyBlock);
    expect(widget.blocks.map((b) => b.type)).toEqual([
      'section',
      'fields',
      'list',
      'code',
      'buttons',
      'citations',
      'status',
    ]);
    expect(widget.blocks[5]).toEqual({
      type: 'citations',
      citations: [
        { title: 'Payments down', source: 'runbooks/payments.md', heading: 'Remediate', score: '0.82' },
      ],
    });
    expect(widget.blocks[2]).toEqual({ type: 'list', ordered: true, items: ['check the pods', 'roll back'] });
  });

  it('bounds long text without splitting a surrogate pair', () => {
    const text = 'a'.repeat(WIDGET_MAX_TEXT - 2) + '😀😀😀';
    const section = renderForWidget({ text, blocks: [{ type: 'section', text }] }).blocks[0] as {
      text: string;
    };
    expect(section.text.length).toBeLessThanOrEqual(WIDGET_MAX_TEXT);
    expect(section.text.endsWith('…')).toBe(true);
    expect(section.text).not.toMatch(/[\ud800-\udbff]…$/);
  });
});
