# syntax=docker/dockerfile:1
#
# One image for all five Yiyang services (gateway, registry, dispatch, billing, monitoring).
# The service is picked at run time by env SERVICE (compose sets it per service); the build
# arg SERVICE only sets the default baked into the image.
#
#   docker build -t yiyang .
#   docker run --rm -e SERVICE=registry -e KAFKA_BROKERS=... -e MONGO_URL=... -p 3001:3001 yiyang
#
# There is no build step: the TypeScript sources are compiled at start by @swc-node/register
# (see docs/adr/0004-docker-compose.md).

FROM node:20-bookworm-slim

WORKDIR /app

# Dependencies first, so this layer is reused until package.json / package-lock.json change.
# Dev dependencies are needed at run time: @swc-node/register, @swc/core and typescript do
# the on-the-fly compilation. NODE_ENV=production is therefore set only after the install.
# `npm install` follows the lock; `npm ci` would reject it (docs/adr/0005-toolchain.md).
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm \
    npm install --include=dev --no-audit --no-fund

# Sources. Owned by root and read-only for the runtime user; swc-node keeps its transform
# cache under the OS temp dir (/tmp/swc-node-<uid>), which the `node` user can write.
COPY tsconfig*.json ./
COPY libs ./libs
COPY apps ./apps

ARG SERVICE=gateway
ENV NODE_ENV=production \
    SERVICE=${SERVICE} \
    SWC_NODE_PROJECT=tsconfig.base.json \
    HOST=0.0.0.0

USER node

EXPOSE 3000 3001 3002 3003 3004

# Liveness only: the process is up and serving HTTP. Readiness (MongoDB + Kafka) is /health,
# which docker-compose.yml uses instead. PORT falls back to the service's default port.
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
    CMD ["node", "-e", "const d={gateway:3000,registry:3001,dispatch:3002,billing:3003,monitoring:3004};const p=process.env.PORT||d[process.env.SERVICE];fetch('http://127.0.0.1:'+p+'/health/live',{signal:AbortSignal.timeout(4000)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]

# `exec` replaces the shell, so node itself receives SIGTERM and runs the Nest shutdown hooks.
CMD ["sh", "-c", "exec node -r @swc-node/register apps/${SERVICE}/src/main.ts"]
