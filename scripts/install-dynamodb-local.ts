// Fetches DynamoDB Local into the cache ahead of the first test run (CI calls this once).
import { installDynamoDbLocal } from '../lib/local';

const files = await installDynamoDbLocal();
console.log(`DynamoDB Local is in ${files.directory}`);
