# One image for the three apps; the command picks which one runs.
FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY apps/api/package.json apps/api/
COPY apps/gateway/package.json apps/gateway/
COPY apps/worker/package.json apps/worker/
COPY apps/all-in-one/package.json apps/all-in-one/
COPY adapters/kit/package.json adapters/kit/
COPY adapters/meta-graph/package.json adapters/meta-graph/
COPY adapters/whatsapp/package.json adapters/whatsapp/
COPY adapters/messenger/package.json adapters/messenger/
COPY adapters/twilio/package.json adapters/twilio/
COPY adapters/sendgrid/package.json adapters/sendgrid/
COPY core/package.json core/
COPY db/package.json db/
COPY tools/package.json tools/
COPY test/package.json test/
COPY bench/package.json bench/
RUN npm ci --no-audit --no-fund

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY . .
USER node
EXPOSE 8003 8004
# TypeScript runs through tsx; the packages' exports point at their sources.
CMD ["npm", "run", "start:api"]
