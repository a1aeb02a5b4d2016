# hyperliquid-twap: the `hl-twap` CLI in a small Node 22 (LTS) image. The default command serves
# the API; pass another command to run it instead, e.g. `docker run … IMAGE etl --dry-run`.
#
# The build stage compiles src/ to dist/ with tsc (`npm ci` runs the `prepare` script); the
# runtime has the production dependencies only and runs the compiled JavaScript.

# Node 22 is a maintained LTS line (Node 20's support has ended); node:24-bookworm-slim
# works too. The code itself still runs on Node 20.19+.
ARG NODE_IMAGE=node:22-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY scripts/build.mjs ./scripts/
COPY src ./src
RUN npm ci --no-audit --no-fund

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` builds, which the build stage did; no production dependency
# has an install script of its own.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && npm cache clean --force

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    API_HOST=0.0.0.0 \
    API_PORT=8000 \
    TWAP_DATA_DIR=/data
WORKDIR /app
# The application files stay owned by root, so the process (user node) cannot change its
# own code; it writes only to /data (the embedded database) and the system temp directory
# (ETL downloads).
COPY --from=deps /app/node_modules ./node_modules
COPY package.json package-lock.json ./
COPY bin ./bin
COPY --from=build /app/dist ./dist
# The explorer's files are served as written, from src/web.
COPY src/web ./src/web
COPY migrations ./migrations
COPY samples ./samples
# /data is where the embedded database lives when DATABASE_URL is unset: mount a volume
# there (`-v hltwap-data:/data`). No VOLUME instruction, so that containers using
# PostgreSQL do not each get an unused anonymous volume.
RUN mkdir -p /data && chown node:node /data

USER node
EXPOSE 8000

# Slim images have no curl: ask /healthz with Node's own fetch. 200 (also "stale") is
# healthy; 503 (database unreachable) or no answer is not.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.API_PORT || 8000) + '/healthz', { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]

ENTRYPOINT ["node", "bin/hl-twap.js"]
CMD ["serve"]
