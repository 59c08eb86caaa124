/** Sign-in and refresh: per IP, far below the general limit (credential stuffing, OWASP API2). */
export const LOGIN_RATE_LIMIT = {
  max: Number(process.env['RATE_LIMIT_LOGIN_PER_MINUTE'] ?? 20),
  timeWindow: 60_000,
  keyGenerator: (req: { ip: string }) => `login:${req.ip}`,
};
