# One image for the three apps; the command picks which one runs. Production code is bundled ahead of time
# (`npm run build`: dist/*.js, our TypeScript compiled, third-party packages imported from node_modules) and
# runs as plain `node`, the container's main process, which gets SIGTERM from `docker stop` and drains within
# 8 s (compose runs it under an init with `init: true`; `docker run --init` does the same).
FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY apps/api/package.json apps/api/
COPY apps/gateway/package.json apps/gateway/
COPY apps/worker/package.json apps/worker/
COPY apps/all-in-one/package.json apps/all-in-one/
COPY apps/console/package.json apps/console/
COPY adapters/kit/package.json adapters/kit/
COPY adapters/meta-graph/package.json adapters/meta-graph/
COPY adapters/whatsapp/package.json adapters/whatsapp/
COPY adapters/messenger/package.json adapters/messenger/
COPY adapters/twilio/package.json adapters/twilio/
COPY adapters/email/package.json adapters/email/
COPY adapters/sendgrid/package.json adapters/sendgrid/
COPY adapters/ses/package.json adapters/ses/
COPY core/package.json core/
COPY db/package.json db/
COPY tools/package.json tools/
COPY test/package.json test/
COPY bench/package.json bench/
RUN npm ci --no-audit --no-fund

FROM deps AS build
COPY . .
RUN npm run build && node apps/console/build.mjs --force && npm prune --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# What the bundles read beside their sources: the SQL migrations, and each package's manifest (workspace links).
COPY --from=build /app/db ./db
# The agent console's built files, which the API serves at /console.
COPY --from=build /app/apps/console/dist ./apps/console/dist
COPY --from=build /app/package.json ./
USER node
EXPOSE 8003 8004
CMD ["node", "--enable-source-maps", "dist/api.js"]
