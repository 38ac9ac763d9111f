# syntax=docker/dockerfile:1.7
# zoneferry: one image, two entrypoints. The chart runs `webhook/main.js` or `runner/main.js`
# (the image's default is the webhook). Build:
#   docker build --build-arg RUNTIME_DIGEST=sha256:<digest> -t zoneferry:0.1.0 .
# test/chart/dockerfile.test.ts checks this file against the project: the stages run only the
# project's own commands, every base image is pinned by digest, the entrypoints exist in the build
# output, production dependencies cover every runtime import.
#
# Every base image is pinned by digest: a tag is a pointer its publisher moves, and a build must
# not change with it. The build stages' digest is node:24-bookworm-slim's as pinned in a public
# Dockerfile (github.com/cyanxxy/open-ocr-cli-mcp, Dockerfile at commit 9b9df545ba3f), not one this
# project resolved itself: re-pin it from the registry when moving Node on
#   docker buildx imagetools inspect node:24-bookworm-slim
# No public source this project can cite pins the runtime's digest, so it is a required build
# argument: the digest of gcr.io/distroless/nodejs24-debian12:nonroot (the tag named below) as
#   docker buildx imagetools inspect gcr.io/distroless/nodejs24-debian12:nonroot
# prints it. Without it the FROM line is not a valid reference and the build stops there.
ARG RUNTIME_DIGEST

# Compile TypeScript to JavaScript with the lock file's toolchain.
FROM node:24-bookworm-slim@sha256:6f7b03f7c2c8e2e784dcf9295400527b9b1270fd37b7e9a7285cf83b6951452d AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY core core
COPY webhook webhook
COPY runner runner
RUN npm run build

# Production dependencies only (no TypeScript, ESLint or test tools in the image).
FROM node:24-bookworm-slim@sha256:6f7b03f7c2c8e2e784dcf9295400527b9b1270fd37b7e9a7285cf83b6951452d AS dependencies
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

# Node 24 LTS without a shell or package manager, as user 65532 (nonroot): the tag names it, the
# digest (RUNTIME_DIGEST, required) pins it.
FROM gcr.io/distroless/nodejs24-debian12:nonroot@${RUNTIME_DIGEST}
WORKDIR /app
ENV NODE_ENV=production
COPY --from=dependencies /src/node_modules node_modules
COPY --from=build /src/dist ./
COPY package.json ./
USER 65532:65532
ENTRYPOINT ["/nodejs/bin/node"]
CMD ["webhook/main.js"]
