# syntax=docker/dockerfile:1.7
# zoneferry: one image, two entrypoints. The chart runs `webhook/main.js` or `runner/main.js`
# (the image's default is the webhook). Build: docker build -t zoneferry:0.1.0 .
# test/chart/dockerfile.test.ts checks this file against the project: the stages run only the
# project's own commands, the entrypoints exist in the build output, production dependencies
# cover every runtime import.

# Compile TypeScript to JavaScript with the lock file's toolchain.
FROM node:24-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY core core
COPY webhook webhook
COPY runner runner
RUN npm run build

# Production dependencies only (no TypeScript, ESLint or test tools in the image).
FROM node:24-bookworm-slim AS dependencies
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

# Node 24 LTS without a shell or package manager, as user 65532 (nonroot).
FROM gcr.io/distroless/nodejs24-debian12:nonroot
WORKDIR /app
ENV NODE_ENV=production
COPY --from=dependencies /src/node_modules node_modules
COPY --from=build /src/dist ./
COPY package.json ./
USER 65532:65532
ENTRYPOINT ["/nodejs/bin/node"]
CMD ["webhook/main.js"]
