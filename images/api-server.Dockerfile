# syntax=docker/dockerfile:1.7
# The Trailkeeper audit API server on Node.js 24. Build from the repository root (the build context must be the root: the
# workspace shares one lockfile and the core package):
#   make image-api-server            # or: docker build -f images/api-server.Dockerfile -t ghcr.io/trailkeeper/api-server:dev .
# images/api-server.Dockerfile.dockerignore limits the context to the files below (BuildKit reads it beside the Dockerfile).
ARG NODE_IMAGE=node:24-trixie-slim
ARG RUNTIME_IMAGE=gcr.io/distroless/nodejs24-debian13:nonroot

# Stage 1: production dependencies only, exactly as locked.
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
ENV NODE_ENV=production \
    npm_config_audit=false \
    npm_config_fund=false \
    npm_config_update_notifier=false
COPY package.json package-lock.json ./
# Every workspace manifest, so that npm ci accepts the lockfile and links @trailkeeper/core to the sources below.
COPY core/package.json core/
COPY api-server/package.json api-server/
COPY operator/package.json operator/
# --omit=optional also drops embedded-postgres's platform binaries: in a cluster DATABASE_URL is always set, so the
# embedded database is never started.
# No install script is needed at run time, so none runs.
RUN --mount=type=cache,target=/root/.npm \
    npm ci --omit=dev --omit=optional --ignore-scripts \
 && rm -rf node_modules/.cache

# Stage 2: the web console, built by Vite into console/dist. Only the console workspace's dependencies are
# installed (Vite, Preact), optional ones included: Vite's bundler is a native binary published per platform.
FROM ${NODE_IMAGE} AS console
WORKDIR /app
ENV npm_config_audit=false \
    npm_config_fund=false \
    npm_config_update_notifier=false
COPY package.json package-lock.json ./
COPY core/package.json core/
COPY api-server/package.json api-server/
COPY operator/package.json operator/
COPY console/package.json console/
RUN --mount=type=cache,target=/root/.npm \
    npm ci --workspace=@trailkeeper/console --ignore-scripts
# The console imports the event category table from core, so the build sees core's sources too.
COPY core/src core/src
COPY console/index.html console/vite.config.ts console/tsconfig.json console/
COPY console/src console/src
RUN npm run build --workspace=@trailkeeper/console

# Stage 3: distroless Node.js 24 runtime: no shell, no package manager, user 65532 (nonroot).
FROM ${RUNTIME_IMAGE}
WORKDIR /app
# The heap cap keeps garbage from piling up during long exports, and two malloc arenas keep buffers freed on other
# threads from staying resident (docs/performance.md); the chart sets the same.
ENV NODE_ENV=production \
    NODE_OPTIONS="--max-old-space-size=128 --max-semi-space-size=4" \
    MALLOC_ARENA_MAX=2
COPY --from=deps --chown=0:0 /app/node_modules ./node_modules
COPY --chown=0:0 package.json ./
COPY --chown=0:0 core/package.json core/
COPY --chown=0:0 core/src core/src
COPY --chown=0:0 api-server/package.json api-server/
COPY --chown=0:0 api-server/src api-server/src
# Where the server looks for the console by default (TRAILKEEPER_CONSOLE_DIR: console/dist beside api-server/).
COPY --from=console --chown=0:0 /app/console/dist console/dist
# Files stay owned by root and read-only for the process; the chart also mounts the root filesystem read-only.
USER 65532:65532
EXPOSE 8080
# Node.js 24 runs the TypeScript sources directly (type stripping); workspace links resolve to /app/core, outside
# node_modules, where stripping is allowed.
ENTRYPOINT ["/nodejs/bin/node"]
CMD ["api-server/src/main.ts"]
