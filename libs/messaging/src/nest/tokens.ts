export const MESSAGING_OPTIONS = Symbol('yiyang:messaging-options');
export const KAFKA = Symbol('yiyang:kafka');
export const MESSAGING_LOGGER = Symbol('yiyang:messaging-logger');
