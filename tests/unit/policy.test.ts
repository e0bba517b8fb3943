import { Policy } from '../../bot/policy/policy';
import { testConfig } from '../support/runtime';

describe('policy', () => {
  const policy = new Policy(
    testConfig((raw) => {
      raw.policy.users['web:olivia'] = ['operator'];
      raw.policy.users['slack:U024BE7LH'] = ['admin'];
      raw.policy.roles.scaler = { permissions: ['service.*'] };
      raw.policy.users['web:sam'] = ['scaler'];
    }).policy,
  );
  const user = (id: string, authenticated = true) => ({ id, name: id, authenticated });

  it('maps channel identities to roles, with channel wildcards and an authenticated default', () => {
    expect(policy.rolesFor(user('web:olivia'))).toEqual(['operator']);
    expect(policy.rolesFor(user('slack:U024BE7LH'))).toEqual(['admin']);
    expect(policy.rolesFor(user('terminal:anyone'))).toEqual(['operator']);
    expect(policy.rolesFor(user('web:someone-else'))).toEqual(['viewer']);
  });

  it('gives anonymous principals the anonymous role even when their id matches a configured user', () => {
    expect(policy.rolesFor(user('web:olivia', false))).toEqual(['guest']);
  });

  it('grants inherited permissions and wildcards, and explains a refusal', () => {
    expect(policy.allows(user('web:olivia'), 'status.read')).toBe(true); // operator ← viewer ← guest
    expect(policy.allows(user('web:olivia'), 'service.restart')).toBe(true);
    expect(policy.allows(user('web:sam'), 'service.scale')).toBe(true); // service.*
    expect(policy.allows(user('web:sam'), 'runbook.run')).toBe(false);
    expect(policy.allows(user('slack:U024BE7LH'), 'anything.at_all')).toBe(true); // *
    expect(policy.decide(user('web:someone-else'), 'service.restart')).toEqual({
      allowed: false,
      roles: ['viewer'],
      reason: 'this needs the permission service.restart, which your role (viewer) does not grant',
    });
    expect(policy.allows(user('guest:x', false), null)).toBe(true);
  });
});
