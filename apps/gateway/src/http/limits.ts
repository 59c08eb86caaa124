/** Set from RATE_LIMIT_LOGIN_PER_MINUTE when the gateway is configured (http/setup.ts). */
const login = { perMinute: 20 };
export const setLoginRateLimit = (perMinute: number) => {
  login.perMinute = perMinute;
};

/** Sign-in and refresh: per IP, far below the general limit (credential stuffing, OWASP API2). */
export const LOGIN_RATE_LIMIT = {
  max: () => login.perMinute,
  timeWindow: 60_000,
  keyGenerator: (req: { ip: string }) => `login:${req.ip}`,
};
