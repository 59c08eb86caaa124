/** Responses every public operation may give, all in the one error shape. */
export const ERROR_STATUSES: Record<string, string> = {
  '400': 'Invalid input (code, field, reason)',
  '401': 'Not signed in, or the token expired / was revoked',
  '403': 'Your role or scope may not do this',
  '404': 'Not found, or outside your scope',
  '409': 'Conflicts with the current state',
  '413': 'Body too large',
  '414': 'Address too long (a path parameter over 100 characters)',
  '415': 'Unsupported content type (JSON only)',
  '422': 'Well-formed but breaks a business rule',
  '423': 'Account locked',
  '429': 'Rate limited (see Retry-After)',
  '503': 'A service is unavailable (GATEWAY.SERVICE_UNAVAILABLE)',
  '504': 'A service did not answer in time (GATEWAY.UPSTREAM_TIMEOUT)',
};
