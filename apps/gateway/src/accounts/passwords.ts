import argon2 from 'argon2';

/**
 * argon2id with OWASP's recommended floor (m = 19 MiB, t = 2, p = 1). The parameters live in each
 * hash, so raising them later only affects new hashes; `needsRehash` upgrades old ones at sign-in.
 */
const OPTIONS = { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export const hashPassword = (password: string) => argon2.hash(password, OPTIONS);

export async function verifyPassword(hash: string, password: string): Promise<boolean> {
  try {
    return await argon2.verify(hash, password);
  } catch {
    return false;
  }
}

export const needsRehash = (hash: string) => argon2.needsRehash(hash, OPTIONS);

/** Verified against when the username is unknown, so timing does not reveal which accounts exist. */
let dummy: Promise<string> | undefined;
export const dummyHash = () => (dummy ??= hashPassword('not-a-real-password-only-for-timing-Aa1!'));

export const PASSWORD_MIN = 10;
export const PASSWORD_MAX = 128;

const COMMON = new Set([
  'password', 'password1', 'password123', 'passw0rd', 'qwerty123', 'qwertyuiop', '1234567890', '123456789a', 'a123456789',
  'abc123456', 'iloveyou', 'admin12345', 'administrator', 'welcome123', 'letmein123', '11111111', '88888888', '66666666',
  'woaini1314', '5201314', 'p@ssw0rd', 'p@ssword1', 'changeme', 'yiyang123', 'yiyang2026',
]);

export interface PasswordProblem {
  code: 'AUTH.PASSWORD_TOO_SHORT' | 'AUTH.PASSWORD_TOO_LONG' | 'AUTH.PASSWORD_TOO_SIMPLE' | 'AUTH.PASSWORD_CONTAINS_USERNAME' | 'AUTH.PASSWORD_TOO_COMMON';
  message: string;
  messageZh: string;
}

/**
 * Password rules: 10–128 characters (NIST SP 800-63B length), at least three of lower case, upper
 * case, digits and symbols (the complexity China's MLPS 2.0 / 等保 asks of admin systems), not
 * containing the username and not a well-known password.
 */
export function passwordProblem(password: string, username: string): PasswordProblem | undefined {
  if (password.length < PASSWORD_MIN) {
    return { code: 'AUTH.PASSWORD_TOO_SHORT', message: `Password must be at least ${PASSWORD_MIN} characters`, messageZh: `密码至少 ${PASSWORD_MIN} 个字符` };
  }
  if (password.length > PASSWORD_MAX) {
    return { code: 'AUTH.PASSWORD_TOO_LONG', message: `Password must be at most ${PASSWORD_MAX} characters`, messageZh: `密码最多 ${PASSWORD_MAX} 个字符` };
  }
  const classes = [/[a-z]/, /[A-Z]/, /\d/, /[^A-Za-z0-9]/].filter((re) => re.test(password)).length;
  if (classes < 3) {
    return {
      code: 'AUTH.PASSWORD_TOO_SIMPLE',
      message: 'Password must mix at least three of: lower case, upper case, digits, symbols',
      messageZh: '密码须包含小写字母、大写字母、数字、符号中的至少三类',
    };
  }
  if (username.length >= 3 && password.toLowerCase().includes(username.toLowerCase())) {
    return { code: 'AUTH.PASSWORD_CONTAINS_USERNAME', message: 'Password must not contain the username', messageZh: '密码不能包含用户名' };
  }
  if (COMMON.has(password.toLowerCase())) {
    return { code: 'AUTH.PASSWORD_TOO_COMMON', message: 'This password is too common', messageZh: '该密码过于常见' };
  }
  return undefined;
}
