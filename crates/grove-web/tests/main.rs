mod grove;
